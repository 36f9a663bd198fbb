//! TensorBoard hyperparameters (the `hparams` plugin's `session_start_info`, as tensorboardX's and
//! torch's `add_hparams` and TensorFlow's `hp.hparams` write it) read by hand into a run's config.
//!
//! A summary value whose plugin is `hparams` carries an `HParamsPluginData` as its plugin content
//! (tensorboard/plugins/hparams/plugin_data.proto): `experiment` = 2, `session_start_info` = 3,
//! `session_end_info` = 4. `SessionStartInfo.hparams` = 1 is a `map<string,
//! google.protobuf.Value>`: entries with key = 1 and value = 2, a `Value` being `null_value` = 1,
//! `number_value` = 2 (double), `string_value` = 3, `bool_value` = 4 (struct and list values,
//! which TensorBoard does not support here, read as `null`, as the Python client reads them).
//!
//! `add_hparams` writes its session (the experiment, the session start and end, and its metrics)
//! into a folder of its own below the writer's, `<logdir>/<name or time>/`, which TensorBoard
//! shows as a run of its own. The import keeps that run, hyperparameters included (what
//! TensorBoard's HParams dashboard shows), and also gives the hyperparameters to the run of the
//! writer's folder, where the training curves are (what `sync_tensorboard` does, and what its
//! user expects): see [`sessions_below`].

use super::proto::{Wire, fields};
use super::wandb_tree::object_of;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// How much of each event file of a sub-folder is read to find an `add_hparams` session: its
/// writer puts the session's summaries first (a few hundred bytes, more with many hparams), and
/// a sub-folder that is a large run of its own costs no more than this.
const SESSION_SCAN_BYTES: u64 = 256 << 10;

/// The name of the plugin whose summaries hold hyperparameters.
pub const PLUGIN_NAME: &str = "hparams";

/// One `HParamsPluginData`: what an `hparams` plugin summary holds.
#[derive(Debug, Clone, PartialEq)]
pub enum PluginData {
    /// The experiment's description (`hp.hparams_config`, and `add_hparams` in its own folder).
    Experiment,
    /// A session's hyperparameters: each name with its value as JSON text, in the order read.
    SessionStart(Vec<(String, String)>),
    /// A session's end, or a kind this reader does not know.
    Other,
}

/// Decodes an `hparams` plugin content; the error says what does not decode.
pub fn decode(content: &[u8]) -> Result<PluginData, String> {
    let bad = |e: super::proto::Malformed| format!("an hparams summary that does not decode ({e})");
    let mut out = PluginData::Other;
    for field in fields(content) {
        match field.map_err(bad)? {
            (2, Wire::Bytes(_)) => out = PluginData::Experiment,
            (3, Wire::Bytes(info)) => out = PluginData::SessionStart(session_start(info)?),
            (4, Wire::Bytes(_)) => out = PluginData::Other,
            (2..=4, _) => return Err("an hparams summary with a field of the wrong type".into()),
            _ => {}
        }
    }
    Ok(out)
}

/// The hyperparameters of a `SessionStartInfo`; a name given twice keeps its last value (a
/// protobuf map's rule), an empty name is left out.
fn session_start(bytes: &[u8]) -> Result<Vec<(String, String)>, String> {
    let bad = |e: super::proto::Malformed| format!("an hparams session that does not decode ({e})");
    let mut out: Vec<(String, String)> = Vec::new();
    for field in fields(bytes) {
        let entry = match field.map_err(bad)? {
            (1, Wire::Bytes(entry)) => entry,
            (1, _) => return Err("an hparams session with a field of the wrong type".into()),
            _ => continue,
        };
        let (mut key, mut value) = (String::new(), "null".to_string());
        for part in fields(entry) {
            match part.map_err(bad)? {
                (1, w) => {
                    key = w
                        .text()
                        .ok_or("an hparam whose name is not a string".to_string())?;
                }
                (2, Wire::Bytes(v)) => {
                    value = value_json(v).map_err(|why| format!("{why} ({key})"))?
                }
                (2, _) => return Err(format!("an hparam whose value is not a message ({key})")),
                _ => {}
            }
        }
        if key.is_empty() {
            continue;
        }
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => out.push((key, value)),
        }
    }
    Ok(out)
}

/// A `google.protobuf.Value` as JSON text: a number (the double, non-finite ones as the format's
/// literals), a string, a bool or `null`.
fn value_json(bytes: &[u8]) -> Result<String, String> {
    let bad = |e: super::proto::Malformed| format!("an hparam value that does not decode ({e})");
    for field in fields(bytes) {
        match field.map_err(bad)? {
            (2, Wire::Fixed64(bits)) => return Ok(number_json(f64::from_bits(bits))),
            (3, w @ Wire::Bytes(_)) => {
                let text = w.text().unwrap_or_default();
                return serde_json::to_string(&text).map_err(|e| e.to_string());
            }
            (4, Wire::Varint(v)) => return Ok((v != 0).to_string()),
            (1, Wire::Varint(_)) | (5 | 6, Wire::Bytes(_)) => {}
            (1..=6, _) => return Err("an hparam value of the wrong type".into()),
            _ => {}
        }
    }
    Ok("null".into())
}

/// A double as JSON text that reads back as a double (`32.0`, not `32`).
fn number_json(v: f64) -> String {
    match trackline_shared::num::nonfinite_name(v) {
        Some(name) => name.to_string(),
        None => serde_json::Number::from_f64(v).map_or_else(|| "null".into(), |n| n.to_string()),
    }
}

/// The hyperparameters gathered for one run's config: a key keeps the first value it was given.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Config {
    values: Vec<(String, String)>,
    index: BTreeMap<String, usize>,
}

impl Config {
    /// Adds the keys of `hparams` that the config does not have yet.
    pub fn merge(&mut self, hparams: &[(String, String)]) {
        for (key, value) in hparams {
            if !self.index.contains_key(key) {
                self.index.insert(key.clone(), self.values.len());
                self.values.push((key.clone(), value.clone()));
            }
        }
    }

    /// The config as `config.json`'s text (`{}` when empty).
    pub fn json(&self) -> String {
        object_of(&self.values)
    }
}

/// The hyperparameters of the `add_hparams` sessions in the folders right below `dir` (a run's
/// folder), in folder name order (so in time order for the default names): a folder is such a
/// session when the start of its event files holds both an `hparams` experiment and a session
/// start, as tensorboardX's and torch's `add_hparams` write them together. (TensorFlow's
/// `hp.hparams` writes a session into the run's own folder, its experiment apart: those stay
/// with their own run.) Damage is left to the import of that folder's own run, which reports it.
pub fn sessions_below(dir: &Path) -> Vec<Vec<(String, String)>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut folders: Vec<_> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|e| !crate::format::is_hidden(&e.file_name().to_string_lossy()))
        .map(|e| e.path())
        .collect();
    folders.sort();
    folders
        .iter()
        .filter_map(|folder| session_in(folder))
        .collect()
}

/// The hyperparameters of the `add_hparams` session in `folder`, if it is one.
fn session_in(folder: &Path) -> Option<Vec<(String, String)>> {
    let mut files: Vec<_> = std::fs::read_dir(folder)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter(|e| super::tensorboard::is_event_file(&e.file_name().to_string_lossy()))
        .map(|e| e.path())
        .collect();
    files.sort();
    let (mut experiment, mut session) = (false, None);
    for path in files {
        let Ok(file) = std::fs::File::open(&path) else {
            continue;
        };
        let Ok(read) = super::tfrecord::read_records(file.take(SESSION_SCAN_BYTES)) else {
            continue;
        };
        for record in &read.records {
            for data in super::tensorboard::hparams_of_event(record) {
                match data {
                    PluginData::Experiment => experiment = true,
                    PluginData::SessionStart(h) if session.is_none() => session = Some(h),
                    _ => {}
                }
            }
        }
    }
    session.filter(|_| experiment)
}

#[cfg(test)]
mod tests {
    use super::super::proto::tests::encode;
    use super::*;

    fn entry(key: &str, value: &[(u32, Wire<'_>)]) -> Vec<u8> {
        let value = encode(value);
        encode(&[(1, Wire::Bytes(key.as_bytes())), (2, Wire::Bytes(&value))])
    }

    /// An `HParamsPluginData` holding a session start with `entries`.
    fn session(entries: &[Vec<u8>]) -> Vec<u8> {
        let map: Vec<(u32, Wire<'_>)> = entries.iter().map(|e| (1, Wire::Bytes(e))).collect();
        let info = encode(&map);
        encode(&[(1, Wire::Varint(0)), (3, Wire::Bytes(&info))])
    }

    #[test]
    fn a_session_start_decodes_to_json_values() {
        let content = session(&[
            entry("lr", &[(2, Wire::Fixed64(0.01f64.to_bits()))]),
            entry("bsize", &[(2, Wire::Fixed64(32.0f64.to_bits()))]),
            entry("opt", &[(3, Wire::Bytes("adam \"β\"".as_bytes()))]),
            entry("nesterov", &[(4, Wire::Varint(1))]),
            entry("off", &[(4, Wire::Varint(0))]),
            entry("none", &[(1, Wire::Varint(0))]),
            entry("list", &[(6, Wire::Bytes(&[]))]),
            entry("inf", &[(2, Wire::Fixed64(f64::NEG_INFINITY.to_bits()))]),
            entry("", &[(2, Wire::Fixed64(1.0f64.to_bits()))]),
            entry("lr", &[(2, Wire::Fixed64(0.5f64.to_bits()))]),
        ]);
        let PluginData::SessionStart(hparams) = decode(&content).unwrap() else {
            panic!("no session start")
        };
        let pairs: Vec<(&str, &str)> = hparams
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("lr", "0.5"),
                ("bsize", "32.0"),
                ("opt", r#""adam \"β\"""#),
                ("nesterov", "true"),
                ("off", "false"),
                ("none", "null"),
                ("list", "null"),
                ("inf", "-Infinity"),
            ]
        );
        let experiment = encode(&[(2, Wire::Bytes(b"\x0a\x00"))]);
        assert_eq!(decode(&experiment), Ok(PluginData::Experiment));
        let end = encode(&[(4, Wire::Bytes(b"\x08\x01"))]);
        assert_eq!(decode(&end), Ok(PluginData::Other));
    }

    #[test]
    fn damaged_sessions_are_errors_not_panics() {
        let content = session(&[
            entry("lr", &[(2, Wire::Fixed64(0.01f64.to_bits()))]),
            entry("opt", &[(3, Wire::Bytes(b"adam"))]),
        ]);
        // The version (2 bytes) reads alone; any cut into the session is an error.
        assert_eq!(decode(&content[..2]), Ok(PluginData::Other));
        for cut in 3..content.len() {
            let why = decode(&content[..cut]).unwrap_err();
            assert!(why.contains("does not decode"), "{why}");
        }
        // Lengths that hold outside but not inside: a name longer than its entry.
        let torn_entry = session(&[vec![0x0a, 0x05, b'l']]);
        assert!(decode(&torn_entry).is_err());
        let wrong_type = session(&[entry("lr", &[(2, Wire::Varint(3))])]);
        assert!(decode(&wrong_type).unwrap_err().contains("lr"));
        let not_a_message = encode(&[(3, Wire::Varint(1))]);
        assert!(decode(&not_a_message).is_err());
    }

    #[test]
    fn the_first_value_of_a_key_wins() {
        let mut config = Config::default();
        assert_eq!(config.json(), "{}");
        config.merge(&[("lr".into(), "0.1".into()), ("a".into(), "true".into())]);
        config.merge(&[("lr".into(), "0.2".into()), ("b".into(), "\"x\"".into())]);
        assert_eq!(config.json(), r#"{"lr": 0.1, "a": true, "b": "x"}"#);
    }
}
