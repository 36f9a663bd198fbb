//! One W&B run folder (`wandb/run-<date>-<id>/` or `offline-run-…`) into a run of format v1: its
//! `run-<id>.wandb` record log read once, streaming, into `run.json`, `config.json`,
//! `summary.json`, `history.jsonl`, `system.jsonl`, `console.log` and `metrics.json`, and its
//! `files/` copied (`files/media/` to `media/`, saved files to `files/`). Records that do not
//! decode are skipped and counted, so a damaged file imports whatever is whole.

use super::wandb_artifacts::{ArtifactSink, Logged};
use super::wandb_log::{RecordLog, Skipped};
use super::wandb_records::{Changes, Environment, Item, MetricRecord, Record, RunRecord, decode};
use super::wandb_tree::{Node, Tree, flatten_into, object_of};
use anyhow::Context;
use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Files of a W&B run's `files/` that this format holds elsewhere (console, config, summary,
/// metadata), so they are not copied as saved files.
const WANDB_OWN_FILES: [&str; 4] = [
    "output.log",
    "config.yaml",
    "wandb-summary.json",
    "wandb-metadata.json",
];

/// What one import wrote.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Converted {
    pub run_id: String,
    pub project: String,
    pub rows: u64,
    pub files: u64,
    /// Artifact versions the run logged, committed to the store (their files come from the copies
    /// W&B staged on the machine that logged them, outside the run folder).
    pub artifacts: u64,
    /// Records or bytes skipped, with why.
    pub skipped: Vec<Skipped>,
}

/// Where the converted files go: the run's folder (a staging folder the caller renames).
struct Outputs {
    history: BufWriter<File>,
    system: BufWriter<File>,
    console: BufWriter<File>,
}

/// Console text waiting for its newline, per stream.
#[derive(Default)]
struct PendingLine {
    text: String,
    began: Option<f64>,
}

/// Everything kept while the records stream by.
#[derive(Default)]
struct State {
    run: Option<RunRecord>,
    env: Option<Environment>,
    config: Tree,
    summary: Tree,
    metrics: Vec<MetricRecord>,
    exit: Option<(i64, i64)>,
    last_time: Option<f64>,
    start_time: Option<f64>,
    rows: u64,
    last_step: Option<u64>,
    artifacts: Vec<Logged>,
    stdout: PendingLine,
    stderr: PendingLine,
}

/// Converts the W&B run whose record log is `wandb_file` into `out_dir` (an empty folder), for
/// project `project` (else the run's own), its artifacts into `sink`. Returns what it wrote.
pub fn convert(
    wandb_file: &Path,
    out_dir: &Path,
    project: Option<&str>,
    sink: &ArtifactSink,
) -> anyhow::Result<Converted> {
    let file =
        File::open(wandb_file).with_context(|| format!("opening {}", wandb_file.display()))?;
    let mut log = RecordLog::open(std::io::BufReader::with_capacity(1 << 20, file))
        .with_context(|| wandb_file.display().to_string())?;
    let create = |name: &str| -> anyhow::Result<BufWriter<File>> {
        let path = out_dir.join(name);
        let file = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(BufWriter::with_capacity(1 << 20, file))
    };
    let mut out = Outputs {
        history: create(crate::format::HISTORY_FILE)?,
        system: create(crate::format::SYSTEM_FILE)?,
        console: create(crate::format::CONSOLE_FILE)?,
    };
    let mut state = State::default();
    let mut undecodable = Vec::new();
    while let Some((offset, bytes)) = log.next_record()? {
        match decode(&bytes) {
            Ok(record) => state.apply(record, &mut out)?,
            Err(e) => undecodable.push(Skipped {
                offset,
                why: format!("a record that does not decode ({e})"),
            }),
        }
    }
    state.flush_console(&mut out.console)?;
    let mut skipped = log.skipped;
    skipped.extend(undecodable);
    for mut writer in [out.history, out.system, out.console] {
        writer.flush()?;
        writer.get_ref().sync_all()?;
    }
    let run = state.run.clone().unwrap_or_default();
    let run_id = if run.run_id.is_empty() {
        id_from_file_name(wandb_file).unwrap_or_default()
    } else {
        run.run_id.clone()
    };
    let project = project
        .map(str::to_string)
        .or_else(|| (!run.project.is_empty()).then(|| run.project.clone()))
        .unwrap_or_else(|| "uncategorized".into());
    write_small(out_dir, crate::format::CONFIG_FILE, &state.config_json())?;
    write_small(out_dir, crate::format::SUMMARY_FILE, &state.summary_json())?;
    if let Some(metrics) = state.metrics_json() {
        write_small(out_dir, crate::format::METRICS_FILE, &metrics)?;
    }
    let artifacts = import_artifacts(
        &state.artifacts,
        sink,
        &project,
        &run_id,
        out_dir,
        &mut skipped,
    )?;
    let files = match wandb_file.parent() {
        Some(run_dir) => copy_files(&run_dir.join("files"), out_dir)?,
        None => 0,
    };
    // run.json last: its presence makes the folder a run.
    write_small(
        out_dir,
        crate::format::RUN_FILE,
        &state.run_json(&run_id, &project),
    )?;
    Ok(Converted {
        run_id,
        project,
        rows: state.rows,
        files,
        artifacts,
        skipped,
    })
}

/// The run id in a record log's name, `run-<id>.wandb`.
pub fn id_from_file_name(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let id = name.strip_prefix("run-")?.strip_suffix(".wandb")?;
    crate::format::valid_run_id(id).then(|| id.to_string())
}

/// Commits the run's logged artifacts and writes its lineage (`artifacts.jsonl`); a version that
/// cannot be imported is reported in `skipped`. Answers how many were committed.
fn import_artifacts(
    logged: &[Logged],
    sink: &ArtifactSink,
    project: &str,
    run_id: &str,
    out_dir: &Path,
    skipped: &mut Vec<Skipped>,
) -> anyhow::Result<u64> {
    let mut lines = String::new();
    let mut committed = 0;
    for version in logged {
        match sink.import(version, project, run_id) {
            Ok(Some(line)) => {
                lines.push_str(&serde_json::to_string(&line)?);
                lines.push('\n');
                committed += 1;
            }
            Ok(None) => {}
            Err(why) => skipped.push(Skipped { offset: 0, why }),
        }
    }
    if !lines.is_empty() {
        let name = crate::artifacts::files::RUN_ARTIFACTS_FILE;
        let mut file = File::create(out_dir.join(name))?;
        file.write_all(lines.as_bytes())?;
        file.sync_all()?;
    }
    Ok(committed)
}

fn write_small(dir: &Path, name: &str, text: &str) -> anyhow::Result<()> {
    let path = dir.join(name);
    let mut file = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()?;
    Ok(())
}

fn apply_changes(tree: &mut Tree, changes: Changes) {
    for Item { path, value_json } in changes.update {
        tree.set(&path, value_json);
    }
    for Item { path, .. } in changes.remove {
        tree.remove(&path);
    }
}

fn number(raw: &str) -> Option<f64> {
    let raw = raw.trim();
    trackline_shared::num::parse_nonfinite(raw).or_else(|| raw.parse().ok())
}

impl State {
    fn apply(&mut self, record: Record, out: &mut Outputs) -> anyhow::Result<()> {
        match record {
            Record::Run(run) => {
                let mut run = *run;
                apply_changes(&mut self.config, std::mem::take(&mut run.config));
                self.start_time = self.start_time.or(run.start_time);
                if self.run.is_none() {
                    self.run = Some(run);
                }
            }
            Record::Config(changes) => apply_changes(&mut self.config, changes),
            Record::Summary(changes) => apply_changes(&mut self.summary, changes),
            Record::History { items, step } => self.history(items, step, &mut out.history)?,
            Record::Output { stdout, time, text } => {
                if let Some(t) = time {
                    self.last_time = Some(self.last_time.map_or(t, |l| l.max(t)));
                }
                self.console(stdout, time, &text, &mut out.console)?;
            }
            Record::Stats { time, items } => self.stats(time, items, &mut out.system)?,
            Record::Metric(metric) if !metric.expanded_from_glob && !metric.name.is_empty() => {
                self.metrics.retain(|m| m.name != metric.name);
                self.metrics.push(metric);
            }
            Record::Artifact(record) => self.artifacts.push(Logged {
                record: *record,
                step: self.last_step,
                at: self.last_time.or(self.start_time).unwrap_or(0.0),
            }),
            Record::Exit { code, runtime } => self.exit = Some((code, runtime)),
            Record::Environment(env) => {
                let env = *env;
                self.start_time = self.start_time.or(env.started_at);
                match &mut self.env {
                    // W&B writes the environment in parts: keep what each part says.
                    Some(known) => {
                        let fill = |a: &mut String, b: String| {
                            if a.is_empty() {
                                *a = b;
                            }
                        };
                        fill(&mut known.os, env.os);
                        fill(&mut known.python, env.python);
                        fill(&mut known.program, env.program);
                        fill(&mut known.host, env.host);
                        fill(&mut known.git_remote, env.git_remote);
                        fill(&mut known.git_commit, env.git_commit);
                        if known.args.is_empty() {
                            known.args = env.args;
                        }
                    }
                    None => self.env = Some(env),
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// A history row: `_step`, `_timestamp`, `_runtime` first, then the rest flattened.
    fn history(
        &mut self,
        items: Vec<Item>,
        step: Option<u64>,
        out: &mut impl Write,
    ) -> anyhow::Result<()> {
        let mut row = Tree::default();
        for Item { path, value_json } in items {
            row.set(&path, value_json);
        }
        let raw_of = |key: &str| match row.get(key) {
            Some(Node::Raw(raw)) => Some(raw.clone()),
            _ => None,
        };
        // The row's own `_step` item; else the record's step; else its position.
        let step = raw_of("_step")
            .or_else(|| step.map(|s| s.to_string()))
            .unwrap_or_else(|| self.rows.to_string());
        let mut pairs = vec![("_step".to_string(), step)];
        for key in ["_timestamp", "_runtime"] {
            if let Some(raw) = raw_of(key) {
                if let (true, Some(t)) = (key == "_timestamp", number(&raw)) {
                    self.last_time = Some(self.last_time.map_or(t, |l| l.max(t)));
                }
                pairs.push((key.to_string(), raw));
            }
        }
        for (key, node) in row.entries() {
            if matches!(key.as_str(), "_step" | "_timestamp" | "_runtime") {
                continue;
            }
            flatten_into(&mut pairs, key, node, &|_| false);
        }
        self.last_step = pairs[0].1.parse().ok().or(self.last_step);
        out.write_all(object_of(&pairs).as_bytes())?;
        out.write_all(b"\n")?;
        self.rows += 1;
        Ok(())
    }

    fn console(
        &mut self,
        stdout: bool,
        time: Option<f64>,
        text: &str,
        out: &mut impl Write,
    ) -> anyhow::Result<()> {
        let pending = if stdout {
            &mut self.stdout
        } else {
            &mut self.stderr
        };
        let stream = if stdout { "stdout" } else { "stderr" };
        let mut rest = text;
        while !rest.is_empty() {
            if pending.began.is_none() {
                pending.began = time;
            }
            match rest.find('\n') {
                Some(end) => {
                    pending.text.push_str(&rest[..end]);
                    write_console_line(out, pending, stream)?;
                    rest = &rest[end + 1..];
                }
                None => {
                    pending.text.push_str(rest);
                    rest = "";
                }
            }
        }
        Ok(())
    }

    fn flush_console(&mut self, out: &mut impl Write) -> anyhow::Result<()> {
        for (pending, stream) in [(&mut self.stdout, "stdout"), (&mut self.stderr, "stderr")] {
            if !pending.text.is_empty() {
                write_console_line(out, pending, stream)?;
            }
        }
        Ok(())
    }

    /// A system-metrics sample, W&B's names mapped to this format's where they mean the same.
    fn stats(
        &mut self,
        time: Option<f64>,
        items: Vec<Item>,
        out: &mut impl Write,
    ) -> anyhow::Result<()> {
        let Some(time) = time else { return Ok(()) };
        let mut pairs = vec![("_timestamp".to_string(), format!("{time}"))];
        if let Some(start) = self.start_time {
            pairs.push((
                "_runtime".to_string(),
                format!("{}", (time - start).max(0.0)),
            ));
        }
        for Item { path, value_json } in items {
            let Some(value) = number(&value_json) else {
                continue;
            };
            let key = path.join(".");
            let (name, value) = system_key(&key, value);
            pairs.push((name, value_json_of(value)));
        }
        if pairs.len() > 2 {
            out.write_all(object_of(&pairs).as_bytes())?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }

    fn config_json(&self) -> String {
        let mut config = Tree::default();
        for (key, node) in self.config.entries() {
            if key == "_wandb" {
                // W&B's own bookkeeping; only custom-chart specs mean something here.
                if let Node::Tree(own) = node {
                    for kept in ["visualize", "viz"] {
                        if let Some(Node::Tree(spec)) = own.get(kept) {
                            config.set(&["_wandb".into(), kept.into()], spec.to_json());
                        }
                    }
                }
                continue;
            }
            match node {
                Node::Raw(raw) => config.set(std::slice::from_ref(key), raw.clone()),
                Node::Tree(tree) => config.set(std::slice::from_ref(key), tree.to_json()),
            }
        }
        config.to_json()
    }

    fn summary_json(&self) -> String {
        let aggregated: BTreeSet<&str> = self
            .metrics
            .iter()
            .filter(|m| !m.summary.is_empty())
            .map(|m| m.name.as_str())
            .collect();
        let mut pairs = Vec::new();
        for (key, node) in self.summary.entries() {
            if key == "_wandb" {
                continue;
            }
            flatten_into(&mut pairs, key, node, &|p| aggregated.contains(p));
        }
        object_of(&pairs)
    }

    fn metrics_json(&self) -> Option<String> {
        if self.metrics.is_empty() {
            return None;
        }
        let mut map = serde_json::Map::new();
        for m in &self.metrics {
            let goal = match m.goal {
                1 => Some("minimize"),
                2 => Some("maximize"),
                _ => None,
            };
            let summary = (!m.summary.is_empty()).then(|| m.summary.clone());
            map.insert(
                m.name.clone(),
                serde_json::json!({
                    "step_metric": (!m.step_metric.is_empty()).then(|| m.step_metric.clone()),
                    "summary": summary,
                    "goal": goal,
                    "hidden": m.hidden,
                }),
            );
        }
        serde_json::to_string_pretty(&map).ok()
    }

    fn run_json(&self, run_id: &str, project: &str) -> String {
        let run = self.run.clone().unwrap_or_default();
        let env = self.env.clone().unwrap_or_default();
        let text = |s: &str| (!s.is_empty()).then(|| s.to_string());
        let created = self.start_time.unwrap_or(0.0);
        let (state, finished_at, exit_code) = match self.exit {
            Some((code, runtime)) => (
                if code == 0 { "finished" } else { "failed" },
                Some(created + runtime as f64),
                Some(code),
            ),
            // No exit record: the run was still going, or its process died. An old heartbeat
            // makes the daemon show it as crashed.
            None => ("running", None, None),
        };
        let mut command: Vec<String> = env
            .program
            .is_empty()
            .then(Vec::new)
            .unwrap_or_else(|| vec![env.program.clone()]);
        command.extend(env.args.iter().cloned());
        let git = (!env.git_commit.is_empty() || !env.git_remote.is_empty()).then(|| {
            serde_json::json!({"commit": text(&env.git_commit), "branch": null, "dirty": null,
                               "remote": text(&env.git_remote)})
        });
        let value = serde_json::json!({
            "format_version": trackline_shared::FORMAT_VERSION,
            "id": run_id,
            "name": text(&run.display_name).unwrap_or_else(|| run_id.to_string()),
            "project": project,
            "group": text(&run.group),
            "tags": run.tags,
            "notes": text(&run.notes),
            "job_type": text(&run.job_type),
            "state": state,
            "created_at": created,
            "heartbeat_at": self.last_time.unwrap_or(created),
            "finished_at": finished_at,
            "exit_code": exit_code,
            "host": text(&run.host).or_else(|| text(&env.host)),
            "command": command,
            "pid": null,
            "client": "wandb (imported by trackline)",
            "os": text(&env.os),
            "python": text(env.python.trim_start_matches("CPython ")),
            "git": git,
        });
        serde_json::to_string_pretty(&value).unwrap_or_default()
    }
}

fn write_console_line(
    out: &mut impl Write,
    pending: &mut PendingLine,
    stream: &str,
) -> anyhow::Result<()> {
    let text = pending.text.strip_suffix('\r').unwrap_or(&pending.text);
    let shown = text.rsplit('\r').next().unwrap_or_default();
    let when = crate::util::utc_iso_millis(pending.began.unwrap_or(0.0));
    writeln!(out, "{when} {stream} {shown}")?;
    pending.text.clear();
    pending.began = None;
    Ok(())
}

/// A number as JSON text (non-finite values as format v1's literals).
fn value_json_of(value: f64) -> String {
    trackline_shared::num::nonfinite_name(value).map_or_else(|| format!("{value}"), str::to_string)
}

/// This format's name for one of W&B's system metrics, and its value in this format's unit.
fn system_key(key: &str, value: f64) -> (String, f64) {
    const MB: f64 = 1024.0 * 1024.0;
    let mapped = match key {
        "cpu" => Some(("cpu_percent", value)),
        "memory_percent" => Some(("memory_percent", value)),
        "proc.memory.rssMB" => Some(("proc_rss_mb", value)),
        "network.sent" => Some(("net_sent_mb", value / MB)),
        "network.recv" => Some(("net_recv_mb", value / MB)),
        "disk.in" => Some(("disk_read_mb", value)),
        "disk.out" => Some(("disk_write_mb", value)),
        _ => None,
    };
    if let Some((name, value)) = mapped {
        return (format!("system/{name}"), value);
    }
    if let Some((index, what)) = key
        .strip_prefix("gpu.")
        .and_then(|rest| rest.split_once('.'))
    {
        let name = match what {
            "gpu" => Some("utilization"),
            "memory" => Some("memory_percent"),
            "temp" => Some("temperature_c"),
            "powerWatts" => Some("power_w"),
            _ => None,
        };
        if let (Some(name), true) = (name, index.bytes().all(|b| b.is_ascii_digit())) {
            return (format!("system/gpu.{index}.{name}"), value);
        }
    }
    (format!("system/{key}"), value)
}

/// Copies a W&B run's `files/` into the run folder `out_dir`: `media/…` to `media/…`, the rest
/// (saved files) to `files/…`, W&B's own files left out. Saved files W&B linked rather than copied
/// are followed to their regular file. Hidden names and anything not a regular file are skipped.
fn copy_files(files_dir: &Path, out_dir: &Path) -> anyhow::Result<u64> {
    let mut copied = 0;
    if !files_dir.is_dir() {
        return Ok(0);
    }
    let mut stack = vec![(files_dir.to_path_buf(), String::new())];
    while let Some((dir, rel)) = stack.pop() {
        let entries =
            std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?;
        for entry in entries {
            let entry = entry?;
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if crate::format::is_hidden(&name) {
                continue;
            }
            let path = entry.path();
            let inner = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            let kind = entry.file_type()?;
            if kind.is_dir() {
                stack.push((path, inner));
                continue;
            }
            // A link is followed only to a regular file (W&B links files saved with `wandb.save`).
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            if !meta.is_file() || (rel.is_empty() && WANDB_OWN_FILES.contains(&name.as_str())) {
                continue;
            }
            let target = if inner.starts_with("media/") {
                out_dir.join(&inner)
            } else {
                out_dir.join(crate::format::FILES_DIR).join(&inner)
            };
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::copy(&path, &target)
                .with_context(|| format!("copying {} to {}", path.display(), target.display()))?;
            copied += 1;
        }
    }
    Ok(copied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_names_map_to_this_format() {
        assert_eq!(system_key("cpu", 12.5), ("system/cpu_percent".into(), 12.5));
        assert_eq!(
            system_key("network.sent", 2.0 * 1024.0 * 1024.0),
            ("system/net_sent_mb".into(), 2.0)
        );
        assert_eq!(
            system_key("gpu.0.temp", 70.0),
            ("system/gpu.0.temperature_c".into(), 70.0)
        );
        assert_eq!(
            system_key("gpu.0.memoryAllocated", 3.0),
            ("system/gpu.0.memoryAllocated".into(), 3.0)
        );
        assert_eq!(
            system_key("disk.vda.in", 1.0),
            ("system/disk.vda.in".into(), 1.0)
        );
    }

    #[test]
    fn run_ids_come_from_file_names() {
        assert_eq!(
            id_from_file_name(Path::new("/x/run-km8e44gr.wandb")).as_deref(),
            Some("km8e44gr")
        );
        assert_eq!(id_from_file_name(Path::new("/x/run-../a.wandb")), None);
        assert_eq!(id_from_file_name(Path::new("/x/other.wandb")), None);
    }
}
