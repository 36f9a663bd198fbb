//! One TensorBoard run (a folder of `events.out.tfevents.*` files, from TensorFlow, tensorboardX or
//! `torch.utils.tensorboard`) into a run of format v1: scalars (simple values and scalar tensors)
//! become history points, histograms W&B's histogram values, images and audio media files under
//! `media/`, text string values. Each step becomes one history row holding every tag logged at it,
//! in step order; the summary holds each tag's last value. Hyperparameters of the `hparams`
//! plugin become the config (`tensorboard_hparams.rs`).

use super::proto::{Wire, fields};
use super::tensorboard_hparams::{self as hparams, PluginData};
use super::tfrecord::read_records;
use super::wandb_log::Skipped;
use super::wandb_tree::object_of;
use anyhow::Context;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// What one run's import wrote.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Converted {
    pub rows: u64,
    pub points: u64,
    pub media: u64,
    pub skipped: Vec<Skipped>,
}

/// Who the run is, chosen by the caller.
pub struct RunNames<'a> {
    pub run_id: &'a str,
    pub name: &'a str,
    pub project: &'a str,
}

/// One step's row: its earliest wall time and its values by key, as JSON text.
#[derive(Default)]
struct Row {
    wall_time: Option<f64>,
    values: BTreeMap<String, String>,
    order: Vec<String>,
}

impl Row {
    fn set(&mut self, key: String, value: String) {
        if !self.values.contains_key(&key) {
            self.order.push(key.clone());
        }
        self.values.insert(key, value);
    }
}

/// A decoded summary value.
enum Value {
    Number(f64),
    Histogram { bins: Vec<f64>, counts: Vec<f64> },
    Image(Vec<u8>, u32, u32),
    Audio(Vec<u8>, f64),
    Text(String),
}

/// A run's rows being built from its events: each step's values, held until taken, and each
/// key's last value taken so far (the summary). Media files are written into the run folder as
/// their values arrive.
#[derive(Default)]
pub struct RunRows {
    rows: BTreeMap<u64, Row>,
    summary: Row,
    start: Option<f64>,
    last_wall: f64,
    /// Rows at or below this step were taken already: later values for them are dropped.
    taken_through: Option<u64>,
    /// Values dropped because their step was taken already.
    late: u64,
    host: Option<String>,
    /// Hyperparameters of the run's `hparams` session starts.
    config: hparams::Config,
    pub converted: Converted,
}

impl RunRows {
    /// Rows that continue a run whose rows through step `taken_through` exist already.
    pub fn after(taken_through: Option<u64>) -> RunRows {
        RunRows {
            taken_through,
            ..RunRows::default()
        }
    }

    /// Adds the events of one file's `records` (from `path`), writing media into `run_dir`.
    pub fn add(&mut self, path: &Path, records: &[Vec<u8>], run_dir: &Path) -> anyhow::Result<()> {
        self.host = self.host.take().or_else(|| host_of(path));
        for record in records {
            match event(record) {
                Ok(Some(Event {
                    step,
                    wall_time,
                    values,
                    hparams,
                })) => {
                    for data in hparams {
                        match data {
                            Ok(PluginData::SessionStart(h)) => self.config.merge(&h),
                            Ok(_) => {}
                            Err(why) => self.converted.skipped.push(Skipped { offset: 0, why }),
                        }
                    }
                    if values.is_empty() {
                        continue;
                    }
                    self.start = Some(self.start.map_or(wall_time, |s| s.min(wall_time)));
                    if self.taken_through.is_some_and(|t| step <= t) {
                        self.late += values.len() as u64;
                        continue;
                    }
                    let row = self.rows.entry(step).or_default();
                    row.wall_time = Some(row.wall_time.map_or(wall_time, |w| w.min(wall_time)));
                    for (tag, value) in values {
                        let rendered = render(value, &tag, step, run_dir, &mut self.converted)?;
                        row.set(tag, rendered);
                    }
                }
                Ok(None) => {}
                Err(why) => self.converted.skipped.push(Skipped { offset: 0, why }),
            }
        }
        Ok(())
    }

    /// Values dropped so far because their step was taken already.
    pub fn late_values(&self) -> u64 {
        self.late
    }

    /// The newest step held.
    pub fn newest_step(&self) -> Option<u64> {
        self.rows.keys().next_back().copied()
    }

    /// Takes the held rows with a step below `below` (all with `None`) as history lines, in step
    /// order, and updates the summary.
    pub fn take_lines(&mut self, below: Option<u64>) -> Vec<String> {
        let kept = match below {
            Some(below) => self.rows.split_off(&below),
            None => BTreeMap::new(),
        };
        let taking = std::mem::replace(&mut self.rows, kept);
        let start = self.start.unwrap_or(0.0);
        let mut lines = Vec::new();
        for (step, row) in taking {
            self.taken_through = Some(step);
            if row.values.is_empty() {
                continue;
            }
            let wall = row.wall_time.unwrap_or(start);
            self.last_wall = self.last_wall.max(wall);
            let mut pairs = vec![
                ("_step".to_string(), step.to_string()),
                ("_timestamp".to_string(), format!("{wall}")),
                (
                    "_runtime".to_string(),
                    format!("{}", (wall - start).max(0.0)),
                ),
            ];
            for key in &row.order {
                let value = row.values[key].clone();
                self.summary.set(key.clone(), value.clone());
                pairs.push((key.clone(), value));
            }
            lines.push(object_of(&pairs));
            self.converted.rows += 1;
        }
        lines
    }

    /// Adds hyperparameters from elsewhere (keys the config has keep their value).
    pub fn add_config(&mut self, hparams: &[(String, String)]) {
        self.config.merge(hparams);
    }

    /// The hyperparameters read, as `config.json`'s text.
    pub fn config_json(&self) -> String {
        self.config.json()
    }

    /// Each key's last value taken, as `summary.json`'s text.
    pub fn summary_json(&self) -> String {
        let pairs: Vec<(String, String)> = self
            .summary
            .order
            .iter()
            .map(|key| (key.clone(), self.summary.values[key].clone()))
            .collect();
        object_of(&pairs)
    }

    /// `run.json` for the run, `finished` or still `running` (its heartbeat now).
    pub fn run_json(&self, names: &RunNames, running: bool) -> serde_json::Value {
        let start = self.start.unwrap_or(0.0);
        let last = self.last_wall.max(start);
        let heartbeat = if running {
            crate::util::now_secs()
        } else {
            last
        };
        serde_json::json!({
            "format_version": trackline_shared::FORMAT_VERSION,
            "id": names.run_id,
            "name": names.name,
            "project": names.project,
            "group": null, "tags": [], "notes": null, "job_type": null,
            "state": if running { "running" } else { "finished" },
            "created_at": start,
            "heartbeat_at": heartbeat,
            "finished_at": if running { None } else { Some(last) },
            "exit_code": null,
            "host": self.host,
            "command": [],
            "pid": if running { Some(std::process::id()) } else { None },
            "client": "tensorboard (imported by trackline)",
        })
    }
}

/// Converts the run whose event files are `events` into `out_dir` (an empty folder).
pub fn convert(events: &[PathBuf], out_dir: &Path, names: &RunNames) -> anyhow::Result<Converted> {
    let mut run = RunRows::default();
    for path in events {
        let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let read = read_records(std::io::BufReader::with_capacity(1 << 20, file))
            .with_context(|| path.display().to_string())?;
        run.converted.skipped.extend(read.skipped);
        run.converted.skipped.extend(read.torn_tail);
        run.add(path, &read.records, out_dir)?;
    }
    // `add_hparams` sessions in folders below this one are this run's hyperparameters too
    // (`tensorboard_hparams.rs`); the run's own come first.
    if let Some(dir) = events.first().and_then(|p| p.parent()) {
        for session in hparams::sessions_below(dir) {
            run.add_config(&session);
        }
    }
    let mut history = BufWriter::new(File::create(out_dir.join(crate::format::HISTORY_FILE))?);
    for line in run.take_lines(None) {
        writeln!(history, "{line}")?;
    }
    history.flush()?;
    history.get_ref().sync_all()?;
    write_small(out_dir, crate::format::CONFIG_FILE, &run.config_json())?;
    write_small(out_dir, crate::format::SUMMARY_FILE, &run.summary_json())?;
    let run_json = serde_json::to_string_pretty(&run.run_json(names, false))?;
    write_small(out_dir, crate::format::RUN_FILE, &run_json)?;
    Ok(run.converted)
}

fn write_small(dir: &Path, name: &str, text: &str) -> anyhow::Result<()> {
    let mut file = File::create(dir.join(name))?;
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()?;
    Ok(())
}

/// The host in an event file's name, `events.out.tfevents.<secs>.<host>[.<suffix>]`.
fn host_of(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let rest = name.strip_prefix("events.out.tfevents.")?;
    let (_, host) = rest.split_once('.')?;
    (!host.is_empty()).then(|| host.to_string())
}

/// Whether a file name is a TensorBoard event file.
pub fn is_event_file(name: &str) -> bool {
    name.starts_with("events.out.tfevents.")
}

/// One event: its step, wall time, summary values and `hparams` plugin data (or why that does
/// not decode). Events with neither (the file version, graphs, session logs) are `None`.
struct Event {
    step: u64,
    wall_time: f64,
    values: Vec<(String, Value)>,
    hparams: Vec<Result<PluginData, String>>,
}

fn event(bytes: &[u8]) -> Result<Option<Event>, String> {
    let bad = |e: super::proto::Malformed| format!("an event that does not decode ({e})");
    let (mut step, mut wall_time, mut values) = (0i64, 0.0, Vec::new());
    let mut hparams = Vec::new();
    for field in fields(bytes) {
        match field.map_err(bad)? {
            (1, w) => wall_time = w.double().unwrap_or(0.0),
            (2, Wire::Varint(v)) => step = v as i64,
            (5, Wire::Bytes(summary)) => {
                for value in fields(summary) {
                    if let (1, Wire::Bytes(v)) = value.map_err(bad)? {
                        let decoded = summary_value(v).map_err(bad)?;
                        values.extend(decoded.value);
                        hparams.extend(decoded.hparams);
                    }
                }
            }
            _ => {}
        }
    }
    if values.is_empty() && hparams.is_empty() {
        return Ok(None);
    }
    // Hyperparameters belong to no step: only values need a step that can be a row's.
    let step = match u64::try_from(step) {
        Ok(step) => step,
        Err(_) if values.is_empty() => 0,
        Err(_) => return Err(format!("an event at a negative step ({step})")),
    };
    Ok(Some(Event {
        step,
        wall_time,
        values,
        hparams,
    }))
}

/// The `hparams` plugin data in an event, the parts that decode (to look at another folder's
/// sessions).
pub(super) fn hparams_of_event(bytes: &[u8]) -> Vec<PluginData> {
    match event(bytes) {
        Ok(Some(event)) => event.hparams.into_iter().filter_map(Result::ok).collect(),
        _ => Vec::new(),
    }
}

/// What one summary value holds: a value for the history (tagged) and, for the `hparams`
/// plugin, its data or why that does not decode.
struct Decoded {
    value: Option<(String, Value)>,
    hparams: Option<Result<PluginData, String>>,
}

fn summary_value(bytes: &[u8]) -> Result<Decoded, super::proto::Malformed> {
    let (mut tag, mut plugin, mut value) = (String::new(), String::new(), None);
    let (mut tensor, mut content) = (None, None);
    for field in fields(bytes) {
        match field? {
            (1, w) => tag = w.text().unwrap_or_default(),
            // SummaryMetadata: plugin_data = 1, a PluginData: plugin_name = 1, content = 2.
            (9, Wire::Bytes(meta)) => {
                for f in fields(meta) {
                    if let (1, Wire::Bytes(data)) = f? {
                        for g in fields(data) {
                            match g? {
                                (1, w) => plugin = w.text().unwrap_or_default(),
                                (2, Wire::Bytes(c)) => content = Some(c),
                                _ => {}
                            }
                        }
                    }
                }
            }
            (2, Wire::Fixed32(bits)) => {
                value = Some(Value::Number(f64::from(f32::from_bits(bits))))
            }
            (4, Wire::Bytes(image)) => value = image_value(image)?,
            (5, Wire::Bytes(histo)) => value = histogram(histo)?,
            (6, Wire::Bytes(audio)) => value = audio_value(audio)?,
            (8, Wire::Bytes(t)) => tensor = Some(t.to_vec()),
            _ => {}
        }
    }
    if let (None, Some(t)) = (&value, tensor) {
        value = tensor_value(&t, &plugin)?;
    }
    let hparams = (plugin == hparams::PLUGIN_NAME).then(|| hparams::decode(content.unwrap_or(&[])));
    let tag = tag
        .strip_suffix("/text_summary")
        .map(str::to_string)
        .unwrap_or(tag);
    Ok(Decoded {
        value: value.filter(|_| !tag.is_empty()).map(|v| (tag, v)),
        hparams,
    })
}

/// Doubles of a repeated `double` field, packed or not.
fn push_doubles(out: &mut Vec<f64>, w: Wire) {
    match w {
        Wire::Fixed64(bits) => out.push(f64::from_bits(bits)),
        Wire::Bytes(b) => out.extend(
            b.chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().unwrap_or_default())),
        ),
        _ => {}
    }
}

fn histogram(bytes: &[u8]) -> Result<Option<Value>, super::proto::Malformed> {
    let (mut min, mut max) = (0.0, 0.0);
    let (mut limits, mut counts) = (Vec::new(), Vec::new());
    for field in fields(bytes) {
        match field? {
            (1, w) => min = w.double().unwrap_or(0.0),
            (2, w) => max = w.double().unwrap_or(0.0),
            (6, w) => push_doubles(&mut limits, w),
            (7, w) => push_doubles(&mut counts, w),
            _ => {}
        }
    }
    let n = limits.len().min(counts.len());
    // Bucket i spans (limit[i-1], limit[i]]; the first starts at the minimum and the last, whose
    // limit is often f64::MAX, ends at the maximum.
    let mut edges = vec![min];
    for (i, &limit) in limits.iter().take(n).enumerate() {
        let prev = edges[i];
        edges.push(limit.min(max).max(prev));
    }
    let mut counts = counts[..n].to_vec();
    // Drop the empty buckets at both ends, keeping their edges consistent.
    let first = counts.iter().position(|&c| c > 0.0).unwrap_or(0);
    let last = counts.iter().rposition(|&c| c > 0.0).map_or(0, |l| l + 1);
    if first >= last {
        return Ok(None);
    }
    counts = counts[first..last].to_vec();
    let bins = edges[first..=last].to_vec();
    Ok(Some(Value::Histogram { bins, counts }))
}

fn image_value(bytes: &[u8]) -> Result<Option<Value>, super::proto::Malformed> {
    let (mut height, mut width, mut encoded) = (0u32, 0u32, Vec::new());
    for field in fields(bytes) {
        match field? {
            (1, Wire::Varint(v)) => height = v as u32,
            (2, Wire::Varint(v)) => width = v as u32,
            (4, Wire::Bytes(b)) => encoded = b.to_vec(),
            _ => {}
        }
    }
    Ok((!encoded.is_empty()).then_some(Value::Image(encoded, width, height)))
}

fn audio_value(bytes: &[u8]) -> Result<Option<Value>, super::proto::Malformed> {
    let (mut rate, mut encoded) = (0.0, Vec::new());
    for field in fields(bytes) {
        match field? {
            (1, Wire::Fixed32(bits)) => rate = f64::from(f32::from_bits(bits)),
            (4, Wire::Bytes(b)) => encoded = b.to_vec(),
            _ => {}
        }
    }
    Ok((!encoded.is_empty()).then_some(Value::Audio(encoded, rate)))
}

/// A tensor summary (TensorFlow 2's way): scalars, `[k, 3]` histograms, images (width, height,
/// encoded images as strings) and text, by the plugin that wrote it.
fn tensor_value(bytes: &[u8], plugin: &str) -> Result<Option<Value>, super::proto::Malformed> {
    const DT_FLOAT: u64 = 1;
    const DT_DOUBLE: u64 = 2;
    const DT_INT32: u64 = 3;
    const DT_INT64: u64 = 9;
    let (mut dtype, mut content) = (0, Vec::new());
    let (mut numbers, mut strings) = (Vec::new(), Vec::new());
    for field in fields(bytes) {
        match field? {
            (1, Wire::Varint(v)) => dtype = v,
            (4, Wire::Bytes(b)) => content = b.to_vec(),
            (5, Wire::Fixed32(bits)) => numbers.push(f64::from(f32::from_bits(bits))),
            (5, Wire::Bytes(b)) => numbers.extend(
                b.chunks_exact(4)
                    .map(|c| f64::from(f32::from_le_bytes(c.try_into().unwrap_or_default()))),
            ),
            (6, w) => push_doubles(&mut numbers, w),
            (7 | 10, Wire::Varint(v)) => numbers.push(v as i64 as f64),
            (8, Wire::Bytes(b)) => strings.push(b.to_vec()),
            _ => {}
        }
    }
    if numbers.is_empty() && !content.is_empty() {
        numbers = match dtype {
            DT_FLOAT => content
                .chunks_exact(4)
                .map(|c| f64::from(f32::from_le_bytes(c.try_into().unwrap_or_default())))
                .collect(),
            DT_DOUBLE => content
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().unwrap_or_default()))
                .collect(),
            DT_INT32 => content
                .chunks_exact(4)
                .map(|c| f64::from(i32::from_le_bytes(c.try_into().unwrap_or_default())))
                .collect(),
            DT_INT64 => content
                .chunks_exact(8)
                .map(|c| i64::from_le_bytes(c.try_into().unwrap_or_default()) as f64)
                .collect(),
            _ => Vec::new(),
        };
    }
    Ok(match plugin {
        "text" => strings
            .first()
            .map(|s| Value::Text(String::from_utf8_lossy(s).into_owned())),
        "images" if strings.len() >= 3 => {
            let num = |s: &[u8]| String::from_utf8_lossy(s).parse::<u32>().unwrap_or(0);
            Some(Value::Image(
                strings[2].clone(),
                num(&strings[0]),
                num(&strings[1]),
            ))
        }
        "histograms" if numbers.len() >= 3 && numbers.len() % 3 == 0 => {
            let mut bins = Vec::new();
            let mut counts = Vec::new();
            for bucket in numbers.chunks_exact(3) {
                if bins.is_empty() {
                    bins.push(bucket[0]);
                }
                bins.push(bucket[1]);
                counts.push(bucket[2]);
            }
            Some(Value::Histogram { bins, counts })
        }
        _ if numbers.len() == 1 => Some(Value::Number(numbers[0])),
        _ => None,
    })
}

/// A value as the JSON text of a history cell, writing its media file first.
fn render(
    value: Value,
    tag: &str,
    step: u64,
    out_dir: &Path,
    converted: &mut Converted,
) -> anyhow::Result<String> {
    Ok(match value {
        Value::Number(v) => {
            converted.points += 1;
            trackline_shared::num::nonfinite_name(v).map_or_else(|| format!("{v}"), str::to_string)
        }
        Value::Text(text) => serde_json::to_string(&text)?,
        Value::Histogram { bins, counts } => {
            let numbers = |v: &[f64]| -> String {
                let items: Vec<String> = v.iter().map(|x| format!("{x}")).collect();
                format!("[{}]", items.join(", "))
            };
            format!(
                "{{\"_type\": \"histogram\", \"values\": {}, \"bins\": {}}}",
                numbers(&counts),
                numbers(&bins)
            )
        }
        Value::Image(bytes, width, height) => {
            let ext = image_extension(&bytes);
            let media = write_media(out_dir, "images", tag, step, ext, &bytes)?;
            converted.media += 1;
            let mut value = media.reference("image-file");
            value.insert("format".into(), ext.into());
            value.insert("width".into(), width.into());
            value.insert("height".into(), height.into());
            serde_json::Value::Object(value).to_string()
        }
        Value::Audio(bytes, rate) => {
            let media = write_media(out_dir, "audio", tag, step, "wav", &bytes)?;
            converted.media += 1;
            let mut value = media.reference("audio-file");
            if rate > 0.0 {
                value.insert("sample_rate".into(), rate.into());
            }
            serde_json::Value::Object(value).to_string()
        }
    })
}

fn image_extension(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        "jpg"
    } else if bytes.starts_with(b"GIF8") {
        "gif"
    } else {
        "png"
    }
}

/// A media file written under `media/<subdir>/`, named as the format says.
struct MediaFile {
    path: String,
    sha256: String,
    size: usize,
}

impl MediaFile {
    fn reference(&self, kind: &str) -> serde_json::Map<String, serde_json::Value> {
        let mut map = serde_json::Map::new();
        map.insert("_type".into(), kind.into());
        map.insert("path".into(), self.path.clone().into());
        map.insert("sha256".into(), self.sha256.clone().into());
        map.insert("size".into(), self.size.into());
        map
    }
}

fn write_media(
    out_dir: &Path,
    subdir: &str,
    key: &str,
    step: u64,
    ext: &str,
    bytes: &[u8],
) -> anyhow::Result<MediaFile> {
    let sha256: String = Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let path = format!(
        "media/{subdir}/{}_{step}_{}.{ext}",
        media_key(key),
        &sha256[..20]
    );
    let target = out_dir.join(&path);
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)?;
    }
    if !target.exists() {
        let temp = target.with_file_name(format!(".tmp-{}", &sha256[..20]));
        std::fs::write(&temp, bytes)?;
        std::fs::rename(&temp, &target)?;
    }
    Ok(MediaFile {
        path,
        sha256,
        size: bytes.len(),
    })
}

/// A tag as the key part of a media file name (docs/format.md, `media/`): `/` makes folders,
/// empty parts are dropped, `.`/`..` become `_`/`__`, a leading dot `_`, `\\` and NUL `_`, and each
/// part is cut to 100 bytes.
fn media_key(tag: &str) -> String {
    let parts: Vec<String> = tag
        .split('/')
        .filter(|p| !p.is_empty())
        .map(|part| {
            let mut part = part.replace(['\\', '\0'], "_");
            if part == "." || part == ".." {
                part = part.replace('.', "_");
            } else if part.starts_with('.') {
                part.replace_range(..1, "_");
            }
            let mut cut = part.len().min(100);
            while !part.is_char_boundary(cut) {
                cut -= 1;
            }
            part.truncate(cut);
            part
        })
        .collect();
    if parts.is_empty() {
        "value".into()
    } else {
        parts.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::super::proto::tests::encode;
    use super::super::tfrecord::tests::encode as frame;
    use super::*;

    fn scalar_event(step: u64, tag: &str, value: f32) -> Vec<u8> {
        let v = encode(&[
            (1, Wire::Bytes(tag.as_bytes())),
            (2, Wire::Fixed32(value.to_bits())),
        ]);
        let summary = encode(&[(1, Wire::Bytes(&v))]);
        encode(&[
            (1, Wire::Fixed64((1_700_000_000.0 + step as f64).to_bits())),
            (2, Wire::Varint(step)),
            (5, Wire::Bytes(&summary)),
        ])
    }

    #[test]
    fn scalars_become_rows_in_step_order() {
        let dir = tempfile::tempdir().unwrap();
        let events = dir.path().join("events.out.tfevents.1.box");
        let version = encode(&[(3, Wire::Bytes(b"brain.Event:2"))]);
        let records = vec![
            version,
            scalar_event(2, "loss", 0.5),
            scalar_event(0, "loss", 1.0),
            scalar_event(2, "acc", 0.25),
        ];
        std::fs::write(&events, frame(&records)).unwrap();
        let out = tempfile::tempdir().unwrap();
        let names = RunNames {
            run_id: "r1",
            name: "r",
            project: "p",
        };
        let converted = convert(&[events], out.path(), &names).unwrap();
        assert_eq!((converted.rows, converted.points), (2, 3));
        let history = std::fs::read_to_string(out.path().join("history.jsonl")).unwrap();
        let rows: Vec<serde_json::Value> = history
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(rows[0]["_step"], 0);
        assert_eq!(rows[1]["loss"], 0.5);
        assert_eq!(rows[1]["acc"], 0.25);
        let run: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.path().join("run.json")).unwrap()).unwrap();
        assert_eq!(run["host"], "box");
    }

    /// A summary value of the `hparams` plugin with `content`, as tensorboardX writes it (no
    /// value, only metadata).
    fn hparams_value(tag: &str, content: &[u8]) -> Vec<u8> {
        let data = encode(&[(1, Wire::Bytes(b"hparams")), (2, Wire::Bytes(content))]);
        let meta = encode(&[(1, Wire::Bytes(&data))]);
        encode(&[(1, Wire::Bytes(tag.as_bytes())), (9, Wire::Bytes(&meta))])
    }

    /// An event at step 0 whose summary holds `values`.
    fn summary_event(values: &[Vec<u8>]) -> Vec<u8> {
        let fields: Vec<(u32, Wire<'_>)> = values.iter().map(|v| (1, Wire::Bytes(v))).collect();
        let summary = encode(&fields);
        encode(&[
            (1, Wire::Fixed64(1_700_000_100.0f64.to_bits())),
            (5, Wire::Bytes(&summary)),
        ])
    }

    /// `HParamsPluginData` with a session start of `(name, Value message)` entries.
    fn session_start(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let entries: Vec<Vec<u8>> = entries
            .iter()
            .map(|(k, v)| encode(&[(1, Wire::Bytes(k.as_bytes())), (2, Wire::Bytes(v))]))
            .collect();
        let map: Vec<(u32, Wire<'_>)> = entries.iter().map(|e| (1, Wire::Bytes(e))).collect();
        let info = encode(&map);
        encode(&[(1, Wire::Varint(0)), (3, Wire::Bytes(&info))])
    }

    fn number(v: f64) -> Vec<u8> {
        encode(&[(2, Wire::Fixed64(v.to_bits()))])
    }

    /// Writes each `(event file, records)` and converts the run of event file `run` into `out`.
    fn convert_files(files: &[(&Path, Vec<Vec<u8>>)], run: &Path, out: &Path) -> Converted {
        for (path, records) in files {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, frame(records)).unwrap();
        }
        let names = RunNames {
            run_id: "r1",
            name: "r",
            project: "p",
        };
        convert(&[run.to_path_buf()], out, &names).unwrap()
    }

    fn read(dir: &Path, name: &str) -> String {
        std::fs::read_to_string(dir.join(name)).unwrap()
    }

    #[test]
    fn hparams_become_the_config_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let events = dir.path().join("events.out.tfevents.1.box");
        let content = session_start(&[
            ("lr", number(0.01)),
            ("bsize", number(32.0)),
            ("opt", encode(&[(3, Wire::Bytes(b"adam"))])),
            ("nesterov", encode(&[(4, Wire::Varint(1))])),
        ]);
        let later = session_start(&[("lr", number(0.5)), ("seed", number(7.0))]);
        let records = vec![
            scalar_event(0, "loss", 1.0),
            summary_event(&[hparams_value("_hparams_/session_start_info", &content)]),
            summary_event(&[hparams_value("_hparams_/session_start_info", &later)]),
            scalar_event(1, "loss", 0.5),
        ];
        let out = tempfile::tempdir().unwrap();
        let out = out.path();
        let converted = convert_files(&[(&events, records)], &events, out);
        assert_eq!(
            read(out, "config.json"),
            "{\"lr\": 0.01, \"bsize\": 32.0, \"opt\": \"adam\", \"nesterov\": true, \"seed\": 7.0}\n"
        );
        assert!(converted.skipped.is_empty(), "{:?}", converted.skipped);
        assert_eq!((converted.rows, converted.points), (2, 2));
        let history = read(out, "history.jsonl");
        assert_eq!(history.lines().count(), 2);
        assert!(!history.contains("hparams"), "{history}");
        assert_eq!(read(out, "summary.json"), "{\"loss\": 0.5}\n");
        let run: serde_json::Value = serde_json::from_str(&read(out, "run.json")).unwrap();
        assert_eq!(run["created_at"], 1_700_000_000.0);
    }

    #[test]
    fn a_damaged_hparams_message_is_reported_and_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let events = dir.path().join("events.out.tfevents.1.box");
        let good = session_start(&[("lr", number(0.01))]);
        let mut damaged = session_start(&[("opt", encode(&[(3, Wire::Bytes(b"adam"))]))]);
        damaged.truncate(damaged.len() - 3);
        let scalar = encode(&[
            (1, Wire::Bytes(b"acc")),
            (2, Wire::Fixed32(0.75f32.to_bits())),
        ]);
        let records = vec![
            summary_event(&[
                scalar,
                hparams_value("_hparams_/session_start_info", &damaged),
            ]),
            summary_event(&[hparams_value("_hparams_/session_start_info", &good)]),
        ];
        let out = tempfile::tempdir().unwrap();
        let out = out.path();
        let converted = convert_files(&[(&events, records)], &events, out);
        assert_eq!(converted.skipped.len(), 1);
        assert!(
            converted.skipped[0].why.contains("hparams"),
            "{:?}",
            converted.skipped
        );
        assert_eq!(read(out, "config.json"), "{\"lr\": 0.01}\n");
        // The value beside the damaged message is kept.
        assert_eq!(read(out, "summary.json"), "{\"acc\": 0.75}\n");
    }

    #[test]
    fn add_hparams_sessions_below_are_the_runs_too() {
        let dir = tempfile::tempdir().unwrap();
        let events = dir.path().join("run/events.out.tfevents.1.box");
        let experiment = encode(&[(1, Wire::Varint(0)), (2, Wire::Bytes(b""))]);
        let own = session_start(&[("seed", number(1.0))]);
        let first = session_start(&[("lr", number(0.1)), ("seed", number(2.0))]);
        let second = session_start(&[("lr", number(0.2)), ("wd", number(0.0))]);
        let tf_style = session_start(&[("other", number(3.0))]);
        let session = |content: &[u8]| {
            vec![
                summary_event(&[hparams_value("_hparams_/experiment", &experiment)]),
                summary_event(&[hparams_value("_hparams_/session_start_info", content)]),
                scalar_event(0, "hparam/acc", 0.5),
            ]
        };
        let a = dir
            .path()
            .join("run/1700000001.5/events.out.tfevents.2.box");
        let b = dir
            .path()
            .join("run/1700000002.5/events.out.tfevents.3.box");
        // A session without an experiment beside it (TensorFlow's `hp.hparams`) stays its own.
        let c = dir.path().join("run/0-tf/events.out.tfevents.4.box");
        let tf = vec![summary_event(&[hparams_value(
            "_hparams_/session_start_info",
            &tf_style,
        )])];
        let own_records = vec![
            scalar_event(0, "loss", 1.0),
            summary_event(&[hparams_value("_hparams_/session_start_info", &own)]),
        ];
        let files = [
            (b.as_path(), session(&second)),
            (a.as_path(), session(&first)),
            (c.as_path(), tf),
            (events.as_path(), own_records),
        ];
        let out = tempfile::tempdir().unwrap();
        let out = out.path();
        let converted = convert_files(&files, &events, out);
        assert_eq!(
            read(out, "config.json"),
            "{\"seed\": 1.0, \"lr\": 0.1, \"wd\": 0.0}\n"
        );
        assert_eq!(converted.rows, 1);
        // The session's own run gets its own hyperparameters.
        let names = RunNames {
            run_id: "s",
            name: "s",
            project: "p",
        };
        let session_out = tempfile::tempdir().unwrap();
        convert(&[a], session_out.path(), &names).unwrap();
        assert_eq!(
            read(session_out.path(), "config.json"),
            "{\"lr\": 0.1, \"seed\": 2.0}\n"
        );
    }

    #[test]
    fn media_keys_stay_inside_media() {
        assert_eq!(media_key("train/samples"), "train/samples");
        assert_eq!(media_key("/../a//.b\\c"), "__/a/_b_c");
        assert_eq!(media_key("."), "_");
        assert_eq!(media_key("//"), "value");
    }

    #[test]
    fn histogram_buckets_become_bins() {
        let limits: Vec<u8> = [1.0f64, 2.0, 3.0, f64::MAX]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let counts: Vec<u8> = [0.0f64, 2.0, 1.0, 0.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let histo = encode(&[
            (1, Wire::Fixed64(0.5f64.to_bits())),
            (2, Wire::Fixed64(2.5f64.to_bits())),
            (6, Wire::Bytes(&limits)),
            (7, Wire::Bytes(&counts)),
        ]);
        let Some(Value::Histogram { bins, counts }) = histogram(&histo).unwrap() else {
            panic!("no histogram")
        };
        assert_eq!(counts, [2.0, 1.0]);
        assert_eq!(bins, [1.0, 2.0, 2.5]);
    }
}
