//! Readers for a run's small JSON files (`run.json`, `config.json`, `summary.json`, `metrics.json`).
//!
//! These files may contain the `NaN`/`Infinity`/`-Infinity` literals Python writes, and numbers
//! beyond f64 range; [`parse_lenient`] (in `format::json`) keeps them as strings so serde_json can
//! hold them and the UI can show them.
//! The parsers take bytes (from wherever a run source got them); [`read_run_file`] and
//! [`read_object`] read a local folder directly, for tools such as `trackline sync`.

use super::beneath::Dir;
pub use super::json::parse_lenient;
use super::{FormatError, RUN_FILE, RunKey};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::path::Path;
use trackline_shared::{FORMAT_VERSION, RunInfo, RunState};

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
    pub sweep_id: Option<String>,
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

impl RunFile {
    /// Parses and checks `run.json`'s bytes; `path` names the file in errors.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<RunFile, FormatError> {
        let value = parse_lenient(utf8(bytes, path)?).map_err(|source| FormatError::Json {
            path: path.to_owned(),
            source,
        })?;
        let run: RunFile =
            serde_json::from_value(value).map_err(|e| FormatError::invalid(path, e.to_string()))?;
        if run.format_version > FORMAT_VERSION {
            return Err(FormatError::invalid(
                path,
                format!(
                    "format version {} is newer than this daemon's ({FORMAT_VERSION}); upgrade trackline",
                    run.format_version
                ),
            ));
        }
        Ok(run)
    }

    /// Checks the file against the folder it is in (`dir`, of run `key`): the id must be the
    /// folder's name and the state one the format knows. Returns the state it reports.
    pub fn reported_state(&self, key: &RunKey, dir: &Path) -> Result<RunState, FormatError> {
        if self.id != key.run {
            return Err(FormatError::invalid(
                dir.join(RUN_FILE),
                format!("id '{}' does not match the folder name", self.id),
            ));
        }
        match self.state.as_deref() {
            None | Some("running") => Ok(RunState::Running),
            Some("finished") => Ok(RunState::Finished),
            Some("failed") => Ok(RunState::Failed),
            Some("crashed") => Ok(RunState::Crashed),
            Some(other) => Err(FormatError::invalid(
                dir.join(RUN_FILE),
                format!("unknown state '{other}'"),
            )),
        }
    }

    /// The run's info as the API shows it, from this file (checked by [`RunFile::reported_state`],
    /// which gave `state`) and the run's other metadata files.
    pub fn into_info(
        self,
        key: &RunKey,
        state: RunState,
        config: Map<String, Value>,
        summary: Map<String, Value>,
        metrics: Map<String, Value>,
    ) -> RunInfo {
        let heartbeat = self
            .heartbeat_at
            .unwrap_or(self.created_at)
            .max(self.created_at);
        let end = self.finished_at.unwrap_or(heartbeat);
        RunInfo {
            project: key.project.clone(),
            id: key.run.clone(),
            name: self
                .name
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| key.run.clone()),
            group: self.group,
            tags: self.tags,
            notes: self.notes,
            job_type: self.job_type,
            sweep_id: self
                .sweep_id
                .filter(|s| trackline_shared::sweeps::is_sweep_id(s)),
            state,
            created_at_secs: self.created_at,
            heartbeat_at_secs: heartbeat,
            finished_at_secs: self.finished_at,
            runtime_secs: (end - self.created_at).max(0.0),
            host: self.host,
            command: self.command,
            pid: self.pid,
            exit_code: self.exit_code,
            os: self.os,
            python: self.python,
            git: self.git.filter(|g| g.is_object()),
            config,
            summary,
            metrics,
            history_rows: None,
            version: 0,
        }
    }
}

/// Parses `config.json`, `summary.json` or `metrics.json`, which must hold a JSON object.
pub fn parse_object(bytes: &[u8], path: &Path) -> Result<Map<String, Value>, FormatError> {
    match parse_lenient(utf8(bytes, path)?) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(FormatError::invalid(path, "expected a JSON object".into())),
        Err(source) => Err(FormatError::Json {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Reads and checks the `run.json` of a local folder. `Ok(None)` when the file does not exist
/// (not a run yet). A `run.json` that is a symbolic link, a pipe or anything but a regular file is
/// refused ([`FormatError::NotRegular`]) and never blocks.
pub fn read_run_file(dir: &Path) -> Result<Option<RunFile>, FormatError> {
    let path = dir.join(RUN_FILE);
    read_in(dir, RUN_FILE)?
        .map(|bytes| RunFile::parse(&bytes, &path))
        .transpose()
}

/// Reads a local `config.json`, `summary.json` or `metrics.json`; a missing file is an empty object.
/// Only a regular file is read, as for [`read_run_file`].
pub fn read_object(path: &Path) -> Result<Map<String, Value>, FormatError> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
        return Err(FormatError::Refused(format!(
            "{}: not a file in a folder",
            path.display()
        )));
    };
    match read_in(dir, name)? {
        Some(bytes) => parse_object(&bytes, path),
        None => Ok(Map::new()),
    }
}

/// The bytes of the regular file `name` in the folder `dir`; `Ok(None)` when either is missing.
fn read_in(dir: &Path, name: &str) -> Result<Option<Vec<u8>>, FormatError> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    match Dir::open_root(dir) {
        Ok(folder) => folder.read(name),
        Err(FormatError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// The files are UTF-8; anything else fails as reading it as text would.
fn utf8<'a>(bytes: &'a [u8], path: &Path) -> Result<&'a str, FormatError> {
    std::str::from_utf8(bytes).map_err(|_| {
        FormatError::io(
            path,
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "stream did not contain valid UTF-8",
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn run_file_is_checked_against_its_folder() {
        let key = RunKey {
            project: "p".into(),
            run: "abc".into(),
        };
        let dir = Path::new("/data/p/abc");
        let parse = |text: &str| RunFile::parse(text.as_bytes(), &dir.join(RUN_FILE)).unwrap();
        let file =
            parse(r#"{"id": "abc", "created_at": 10, "heartbeat_at": 4, "state": "failed"}"#);
        assert_eq!(file.reported_state(&key, dir).unwrap(), RunState::Failed);
        let info = file.into_info(&key, RunState::Failed, Map::new(), Map::new(), Map::new());
        // No name: the id; a heartbeat before creation counts as the creation time.
        assert_eq!(info.name, "abc");
        assert_eq!(info.heartbeat_at_secs, 10.0);
        assert_eq!(info.runtime_secs, 0.0);
        let other = parse(r#"{"id": "xyz"}"#).reported_state(&key, dir);
        assert!(
            other
                .unwrap_err()
                .to_string()
                .contains("does not match the folder name")
        );
        let odd = parse(r#"{"id": "abc", "state": "paused"}"#).reported_state(&key, dir);
        assert_eq!(
            odd.unwrap_err().to_string(),
            "/data/p/abc/run.json: unknown state 'paused'"
        );
        let bytes = b"{\"id\": \"abc\", \"name\": \"\xff\"}";
        assert!(matches!(
            RunFile::parse(bytes, &dir.join(RUN_FILE)),
            Err(FormatError::Io { .. })
        ));
    }

    #[test]
    fn objects_must_be_objects() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(super::super::CONFIG_FILE);
        assert!(read_object(&path).unwrap().is_empty());
        std::fs::write(&path, r#"{"lr": NaN}"#).unwrap();
        assert_eq!(read_object(&path).unwrap()["lr"], "NaN");
        std::fs::write(&path, "[1]").unwrap();
        assert!(matches!(
            read_object(&path),
            Err(FormatError::Invalid { .. })
        ));
        std::fs::write(&path, "{").unwrap();
        assert!(matches!(read_object(&path), Err(FormatError::Json { .. })));
    }
}
