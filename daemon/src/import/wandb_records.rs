//! The W&B records an import reads, decoded from their protobuf bytes (field numbers of
//! `wandb_internal.proto` as wandb 0.31 writes them): run, config, history, summary, console
//! output, system stats, metric definitions, saved files, artifacts and the exit. Everything else
//! (telemetry, requests, headers) is [`Record::Other`].

use super::proto::{Malformed, Wire, fields};

/// One value of a history row, a summary or a config: its key path and its JSON text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Item {
    /// `key`, or the `nested_key` path (W&B uses either).
    pub path: Vec<String>,
    pub value_json: String,
}

/// Unix seconds of a `google.protobuf.Timestamp`.
fn timestamp(bytes: &[u8]) -> Result<f64, Malformed> {
    let (mut secs, mut nanos) = (0i64, 0i64);
    for field in fields(bytes) {
        match field? {
            (1, Wire::Varint(v)) => secs = v as i64,
            (2, Wire::Varint(v)) => nanos = i64::from(v as i32),
            _ => {}
        }
    }
    Ok(secs as f64 + nanos as f64 / 1e9)
}

fn item(bytes: &[u8]) -> Result<Item, Malformed> {
    let mut key = None;
    let mut nested = Vec::new();
    let mut value_json = String::new();
    for field in fields(bytes) {
        match field? {
            (1, w) => key = w.text(),
            (2, w) => nested.extend(w.text()),
            (16, w) => value_json = w.text().unwrap_or_default(),
            _ => {}
        }
    }
    let path = if nested.is_empty() {
        key.into_iter().collect()
    } else {
        nested
    };
    Ok(Item { path, value_json })
}

/// Updates and removals of a config or summary (`ConfigRecord`, `SummaryRecord`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Changes {
    pub update: Vec<Item>,
    pub remove: Vec<Item>,
}

fn changes(bytes: &[u8]) -> Result<Changes, Malformed> {
    let mut out = Changes::default();
    for field in fields(bytes) {
        match field? {
            (1, Wire::Bytes(b)) => out.update.push(item(b)?),
            (2, Wire::Bytes(b)) => out.remove.push(item(b)?),
            _ => {}
        }
    }
    Ok(out)
}

/// `RunRecord`: who the run is.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunRecord {
    pub run_id: String,
    pub project: String,
    pub entity: String,
    pub config: Changes,
    pub group: String,
    pub job_type: String,
    pub display_name: String,
    pub notes: String,
    pub tags: Vec<String>,
    pub host: String,
    pub start_time: Option<f64>,
    pub resumed: bool,
}

/// `EnvironmentRecord`: where the run ran.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Environment {
    pub os: String,
    pub python: String,
    pub started_at: Option<f64>,
    pub args: Vec<String>,
    pub program: String,
    pub host: String,
    pub git_remote: String,
    pub git_commit: String,
}

/// `MetricRecord`: a `define_metric`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetricRecord {
    /// The name, or the glob for a pattern.
    pub name: String,
    pub step_metric: String,
    pub hidden: bool,
    /// The aggregates asked for (`min`, `max`, `mean`, `best`, `last`, `none`, `copy`, `first`).
    pub summary: Vec<&'static str>,
    /// 0 unset, 1 minimize, 2 maximize.
    pub goal: u64,
    /// A metric W&B defined itself from a glob (not written by the script).
    pub expanded_from_glob: bool,
}

/// One entry of an artifact's manifest.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ManifestEntry {
    pub path: String,
    pub digest: String,
    pub reference: String,
    pub size: u64,
    /// Where W&B staged a copy of the file on the machine that logged it.
    pub local_path: String,
}

/// `ArtifactRecord`: an artifact version the run logged.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ArtifactRecord {
    pub kind: String,
    pub name: String,
    pub digest: String,
    pub description: String,
    pub metadata_json: String,
    pub aliases: Vec<String>,
    pub entries: Vec<ManifestEntry>,
    /// A manifest too large for the record, in a file (gzipped JSON lines).
    pub manifest_file_path: String,
}

/// A record an import uses.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Run(Box<RunRecord>),
    Config(Changes),
    History {
        items: Vec<Item>,
        step: Option<u64>,
    },
    Summary(Changes),
    /// Console text (a fragment of a line or several lines); `stdout` or `stderr`.
    Output {
        stdout: bool,
        time: Option<f64>,
        text: String,
    },
    Stats {
        time: Option<f64>,
        items: Vec<Item>,
    },
    Metric(MetricRecord),
    /// Paths of saved files, relative to the run's `files/`.
    Files(Vec<String>),
    Artifact(Box<ArtifactRecord>),
    Exit {
        code: i64,
        runtime: i64,
    },
    Environment(Box<Environment>),
    Other,
}

/// Decodes one record.
pub fn decode(bytes: &[u8]) -> Result<Record, Malformed> {
    for field in fields(bytes) {
        let (number, value) = field?;
        let Wire::Bytes(body) = value else { continue };
        return Ok(match number {
            2 => history(body)?,
            3 => Record::Summary(changes(body)?),
            4 | 13 => output(body)?,
            5 => Record::Config(changes(body)?),
            6 => Record::Files(files(body)?),
            7 => stats(body)?,
            8 => Record::Artifact(Box::new(artifact(body)?)),
            12 => Record::Metric(metric(body)?),
            17 => Record::Run(Box::new(run(body)?)),
            18 => exit(body)?,
            26 => Record::Environment(Box::new(environment(body)?)),
            _ => continue,
        });
    }
    Ok(Record::Other)
}

fn history(bytes: &[u8]) -> Result<Record, Malformed> {
    let mut items = Vec::new();
    let mut step = None;
    for field in fields(bytes) {
        match field? {
            (1, Wire::Bytes(b)) => items.push(item(b)?),
            (2, Wire::Bytes(b)) => {
                step = Some(0);
                for f in fields(b) {
                    if let (1, Wire::Varint(n)) = f? {
                        step = Some(n);
                    }
                }
            }
            _ => {}
        }
    }
    Ok(Record::History { items, step })
}

fn output(bytes: &[u8]) -> Result<Record, Malformed> {
    let (mut stdout, mut time, mut text) = (false, None, String::new());
    for field in fields(bytes) {
        match field? {
            (1, Wire::Varint(v)) => stdout = v == 1,
            (2, Wire::Bytes(b)) => time = Some(timestamp(b)?),
            (3, w) => text = w.text().unwrap_or_default(),
            _ => {}
        }
    }
    Ok(Record::Output { stdout, time, text })
}

fn stats(bytes: &[u8]) -> Result<Record, Malformed> {
    let (mut time, mut items) = (None, Vec::new());
    for field in fields(bytes) {
        match field? {
            (2, Wire::Bytes(b)) => time = Some(timestamp(b)?),
            (3, Wire::Bytes(b)) => items.push(item(b)?),
            _ => {}
        }
    }
    Ok(Record::Stats { time, items })
}

fn files(bytes: &[u8]) -> Result<Vec<String>, Malformed> {
    let mut out = Vec::new();
    for field in fields(bytes) {
        if let (1, Wire::Bytes(b)) = field? {
            for f in fields(b) {
                if let (1, w) = f? {
                    out.extend(w.text());
                }
            }
        }
    }
    Ok(out)
}

fn metric(bytes: &[u8]) -> Result<MetricRecord, Malformed> {
    const AGGREGATES: [&str; 8] = [
        "min", "max", "mean", "best", "last", "none", "copy", "first",
    ];
    let mut m = MetricRecord::default();
    for field in fields(bytes) {
        match field? {
            (1, w) => m.name = w.text().unwrap_or_default(),
            (2, w) if m.name.is_empty() => m.name = w.text().unwrap_or_default(),
            (4, w) => m.step_metric = w.text().unwrap_or_default(),
            (6, Wire::Bytes(b)) => {
                for f in fields(b) {
                    if let (2, Wire::Varint(v)) = f? {
                        m.hidden = v != 0;
                    }
                }
            }
            (7, Wire::Bytes(b)) => {
                for f in fields(b) {
                    if let (n @ 1..=8, Wire::Varint(1)) = f? {
                        m.summary.push(AGGREGATES[n as usize - 1]);
                    }
                }
            }
            (8, Wire::Varint(v)) => m.goal = v,
            (10, Wire::Varint(v)) => m.expanded_from_glob = v != 0,
            _ => {}
        }
    }
    Ok(m)
}

fn artifact(bytes: &[u8]) -> Result<ArtifactRecord, Malformed> {
    let mut a = ArtifactRecord::default();
    for field in fields(bytes) {
        match field? {
            (4, w) => a.kind = w.text().unwrap_or_default(),
            (5, w) => a.name = w.text().unwrap_or_default(),
            (6, w) => a.digest = w.text().unwrap_or_default(),
            (7, w) => a.description = w.text().unwrap_or_default(),
            (8, w) => a.metadata_json = w.text().unwrap_or_default(),
            (11, w) => a.aliases.extend(w.text()),
            (12, Wire::Bytes(b)) => {
                for f in fields(b) {
                    match f? {
                        (4, Wire::Bytes(e)) => a.entries.push(manifest_entry(e)?),
                        (5, w) => a.manifest_file_path = w.text().unwrap_or_default(),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    Ok(a)
}

fn manifest_entry(bytes: &[u8]) -> Result<ManifestEntry, Malformed> {
    let mut e = ManifestEntry::default();
    for field in fields(bytes) {
        match field? {
            (1, w) => e.path = w.text().unwrap_or_default(),
            (2, w) => e.digest = w.text().unwrap_or_default(),
            (3, w) => e.reference = w.text().unwrap_or_default(),
            (4, Wire::Varint(v)) => e.size = v,
            (6, w) => e.local_path = w.text().unwrap_or_default(),
            _ => {}
        }
    }
    Ok(e)
}

fn run(bytes: &[u8]) -> Result<RunRecord, Malformed> {
    let mut r = RunRecord::default();
    for field in fields(bytes) {
        match field? {
            (1, w) => r.run_id = w.text().unwrap_or_default(),
            (2, w) => r.entity = w.text().unwrap_or_default(),
            (3, w) => r.project = w.text().unwrap_or_default(),
            (4, Wire::Bytes(b)) => r.config = changes(b)?,
            (6, w) => r.group = w.text().unwrap_or_default(),
            (7, w) => r.job_type = w.text().unwrap_or_default(),
            (8, w) => r.display_name = w.text().unwrap_or_default(),
            (9, w) => r.notes = w.text().unwrap_or_default(),
            (10, w) => r.tags.extend(w.text()),
            (13, w) => r.host = w.text().unwrap_or_default(),
            (17, Wire::Bytes(b)) => r.start_time = Some(timestamp(b)?),
            (18, Wire::Varint(v)) => r.resumed = v != 0,
            _ => {}
        }
    }
    Ok(r)
}

fn exit(bytes: &[u8]) -> Result<Record, Malformed> {
    let (mut code, mut runtime) = (0, 0);
    for field in fields(bytes) {
        match field? {
            (1, Wire::Varint(v)) => code = i64::from(v as i32),
            (2, Wire::Varint(v)) => runtime = i64::from(v as i32),
            _ => {}
        }
    }
    Ok(Record::Exit { code, runtime })
}

fn environment(bytes: &[u8]) -> Result<Environment, Malformed> {
    let mut e = Environment::default();
    for field in fields(bytes) {
        match field? {
            (1, w) => e.os = w.text().unwrap_or_default(),
            (2, w) => e.python = w.text().unwrap_or_default(),
            (3, Wire::Bytes(b)) => e.started_at = Some(timestamp(b)?),
            (5, w) => e.args.extend(w.text()),
            (6, w) => e.program = w.text().unwrap_or_default(),
            (9, Wire::Bytes(b)) => {
                for f in fields(b) {
                    match f? {
                        (1, w) => e.git_remote = w.text().unwrap_or_default(),
                        (2, w) => e.git_commit = w.text().unwrap_or_default(),
                        _ => {}
                    }
                }
            }
            (12, w) => e.host = w.text().unwrap_or_default(),
            _ => {}
        }
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::super::proto::tests::encode;
    use super::*;

    fn item_bytes(path: &[&str], json: &str) -> Vec<u8> {
        let mut fields: Vec<(u32, Wire)> = path
            .iter()
            .map(|p| (2, Wire::Bytes(p.as_bytes())))
            .collect();
        fields.push((16, Wire::Bytes(json.as_bytes())));
        encode(&fields)
    }

    #[test]
    fn history_rows_decode_with_nested_keys_and_step() {
        let a = item_bytes(&["_step"], "3");
        let b = item_bytes(&["img", "width"], "4");
        let step = encode(&[(1, Wire::Varint(3))]);
        let history = encode(&[
            (1, Wire::Bytes(&a)),
            (1, Wire::Bytes(&b)),
            (2, Wire::Bytes(&step)),
        ]);
        let record = encode(&[(1, Wire::Varint(9)), (2, Wire::Bytes(&history))]);
        let Record::History { items, step } = decode(&record).unwrap() else {
            panic!("not history")
        };
        assert_eq!(step, Some(3));
        assert_eq!(items[1].path, ["img", "width"]);
        assert_eq!(items[1].value_json, "4");
    }

    #[test]
    fn a_key_item_uses_its_key() {
        let i = encode(&[(1, Wire::Bytes(b"lr")), (16, Wire::Bytes(b"0.1"))]);
        let config = encode(&[(1, Wire::Bytes(&i))]);
        let record = encode(&[(5, Wire::Bytes(&config))]);
        let Record::Config(changes) = decode(&record).unwrap() else {
            panic!("not config")
        };
        assert_eq!(changes.update[0].path, ["lr"]);
    }

    #[test]
    fn unknown_records_are_other() {
        let record = encode(&[(1, Wire::Varint(1)), (11, Wire::Bytes(b""))]);
        assert_eq!(decode(&record).unwrap(), Record::Other);
    }
}
