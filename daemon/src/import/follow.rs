//! `trackline import tensorboard LOGDIR --follow`: TensorBoard runs that are still training, kept
//! live. Every interval each run folder's event files are read on from where the last look
//! stopped (a record still being written waits), and the steps that are complete are appended to
//! the run's `history.jsonl` through the one writer. A step is complete once a later step has
//! appeared (a writer logs a step's tags together and moves on), so the newest step is held back
//! until then, or until the follow stops. Values arriving for a step already written are dropped
//! (as W&B drops a step lower than the current one) and counted. A run folder the import made
//! earlier goes on after its last step.

use super::tensorboard::{RunNames, RunRows};
use super::tfrecord::read_records_at;
use super::{EventFolder, find_event_folders, tensorboard_run_id};
use crate::format::writer::RunWriter;
use anyhow::Context;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// One followed run.
struct Followed {
    run_id: String,
    name: String,
    project: String,
    writer: RunWriter,
    rows: RunRows,
    /// Bytes of each event file read so far.
    offsets: BTreeMap<PathBuf, u64>,
    /// Length of the run's `history.jsonl`.
    history_len: u64,
    /// Values dropped because their step was written already.
    late_reported: u64,
    /// The `config.json` text written last (the hyperparameters read so far).
    config_written: String,
}

/// Follows every TensorBoard run under `logdirs` into `data_dir` until `stop` is set; answers
/// how many rows it appended.
pub fn follow(
    logdirs: &[PathBuf],
    data_dir: &Path,
    project: Option<&str>,
    interval: Duration,
    stop: &AtomicBool,
) -> anyhow::Result<u64> {
    std::fs::create_dir_all(data_dir)?;
    let mut followed: BTreeMap<PathBuf, Followed> = BTreeMap::new();
    let mut appended = 0;
    loop {
        let stopping = stop.load(Ordering::Relaxed);
        let mut folders = Vec::new();
        for logdir in logdirs {
            find_event_folders(logdir, logdir, 0, &mut folders)?;
        }
        for folder in folders {
            if !followed.contains_key(&folder.dir) {
                let run = start(&folder, data_dir, project)
                    .with_context(|| format!("following {}", folder.dir.display()))?;
                tracing::info!(
                    "following {} as {}/{}",
                    folder.dir.display(),
                    run.project,
                    run.run_id
                );
                followed.insert(folder.dir.clone(), run);
            }
            let run = followed.get_mut(&folder.dir).expect("inserted above");
            appended += poll(run, &folder.events, stopping)?;
        }
        if stopping {
            for run in followed.values_mut() {
                finish(run)?;
            }
            return Ok(appended);
        }
        let mut waited = Duration::ZERO;
        while waited < interval && !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(100));
            waited += Duration::from_millis(100);
        }
    }
}

/// Sets `stop` on Ctrl-C (SIGINT) or SIGTERM.
pub fn stop_on_signal() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build();
        if let Ok(runtime) = runtime {
            runtime.block_on(async {
                #[cfg(unix)]
                {
                    use tokio::signal::unix::{SignalKind, signal};
                    if let Ok(mut term) = signal(SignalKind::terminate()) {
                        tokio::select! {
                            _ = tokio::signal::ctrl_c() => {}
                            _ = term.recv() => {}
                        }
                        return;
                    }
                }
                let _ = tokio::signal::ctrl_c().await;
            });
        }
        flag.store(true, Ordering::Relaxed);
    });
    stop
}

/// Opens (or makes) the run a folder is followed into.
fn start(folder: &EventFolder, data_dir: &Path, project: Option<&str>) -> anyhow::Result<Followed> {
    let run_id = tensorboard_run_id(&folder.name);
    let project = project.unwrap_or(&folder.logdir_name).to_string();
    let writer = RunWriter::new(data_dir, &project, &run_id)?;
    writer.create_dir()?;
    let history = writer.dir().join(crate::format::HISTORY_FILE);
    let (history_len, last_step) = last_step_of(&history)?;
    let mut run = Followed {
        run_id,
        name: folder.name.clone(),
        project,
        writer,
        rows: RunRows::after(last_step),
        offsets: BTreeMap::new(),
        history_len,
        late_reported: 0,
        config_written: String::new(),
    };
    write_run_files(&mut run, true)?;
    Ok(run)
}

/// The length of a run's history file and the `_step` of its last line.
fn last_step_of(history: &Path) -> anyhow::Result<(u64, Option<u64>)> {
    let bytes = match std::fs::read(history) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((0, None)),
        Err(e) => return Err(e).with_context(|| history.display().to_string()),
    };
    let whole = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let last = bytes[..whole]
        .split(|&b| b == b'\n')
        .rev()
        .filter(|line| !line.is_empty())
        .find_map(|line| {
            let row: serde_json::Value =
                crate::format::json::parse_lenient(std::str::from_utf8(line).ok()?).ok()?;
            row.get("_step")?.as_u64()
        });
    Ok((whole as u64, last))
}

/// Reads what the run's event files gained and appends the complete steps (all of them when
/// `all`); answers how many rows it appended.
fn poll(run: &mut Followed, events: &[PathBuf], all: bool) -> anyhow::Result<u64> {
    let dropped_before = run.rows.converted.skipped.len();
    let mut grew = false;
    for path in events {
        let offset = run.offsets.get(path).copied().unwrap_or(0);
        let Ok(mut file) = std::fs::File::open(path) else {
            continue;
        };
        if file.metadata().map_or(0, |m| m.len()) <= offset {
            continue;
        }
        grew = true;
        use std::io::Seek;
        file.seek(std::io::SeekFrom::Start(offset))?;
        let read = read_records_at(std::io::BufReader::with_capacity(1 << 20, file), offset)?;
        run.offsets.insert(path.clone(), read.consumed);
        let dir = run.writer.dir().to_path_buf();
        run.rows.add(path, &read.records, &dir)?;
    }
    // `add_hparams` sessions in sub-folders are this run's hyperparameters too (as in a one-shot
    // import); looked for when the run's own files grew, and at the end.
    if (grew || all)
        && let Some(dir) = events.first().and_then(|p| p.parent())
    {
        for session in super::tensorboard_hparams::sessions_below(dir) {
            run.rows.add_config(&session);
        }
    }
    for skipped in &run.rows.converted.skipped[dropped_before..] {
        tracing::warn!("{}/{}: skipped {}", run.project, run.run_id, skipped.why);
    }
    let below = if all { None } else { run.rows.newest_step() };
    let lines = run.rows.take_lines(below);
    if lines.is_empty() {
        write_run_files(run, !all)?;
        return Ok(0);
    }
    let mut data = lines.join("\n");
    data.push('\n');
    let placed = run.writer.append_at(
        crate::format::HISTORY_FILE,
        run.history_len,
        data.as_bytes(),
    )?;
    placed.map_err(|len| {
        anyhow::anyhow!("history.jsonl changed under the follow (now {len} bytes)")
    })?;
    run.history_len += data.len() as u64;
    write_run_files(run, !all)?;
    let late = run.rows.late_values();
    if late > run.late_reported {
        tracing::warn!(
            "{}/{}: {} values arrived for steps already written and were dropped",
            run.project,
            run.run_id,
            late - run.late_reported
        );
        run.late_reported = late;
    }
    Ok(lines.len() as u64)
}

/// Rewrites the run's `run.json` (its heartbeat, or finished) and `summary.json`, and its
/// `config.json` when hyperparameters came in.
fn write_run_files(run: &mut Followed, running: bool) -> anyhow::Result<()> {
    let names = RunNames {
        run_id: &run.run_id,
        name: &run.name,
        project: &run.project,
    };
    run.writer
        .replace(crate::format::RUN_FILE, &run.rows.run_json(&names, running))?;
    // The texts are written as they are, as a one-shot import writes them: a NaN loss or
    // hyperparameter stays the number `NaN` (a parsed and re-serialised value would turn it into
    // the string "NaN"). Parsing only checks that they are JSON objects.
    let summary = run.rows.summary_json();
    if is_nonempty_object(&summary)? {
        run.writer
            .replace_text(crate::format::SUMMARY_FILE, summary.as_bytes())?;
    }
    let config = run.rows.config_json();
    if config != run.config_written && is_nonempty_object(&config)? {
        run.writer
            .replace_text(crate::format::CONFIG_FILE, config.as_bytes())?;
        run.config_written = config;
    }
    Ok(())
}

/// Whether `text` is a JSON object with at least one key (an error when it is not JSON).
fn is_nonempty_object(text: &str) -> anyhow::Result<bool> {
    let value = crate::format::json::parse_lenient(text)?;
    Ok(value.as_object().is_some_and(|o| !o.is_empty()))
}

fn finish(run: &mut Followed) -> anyhow::Result<()> {
    write_run_files(run, false)
}
