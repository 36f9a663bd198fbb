//! Lineage (docs/format.md, "Artifacts"): a run's `artifacts.jsonl` resolved to the versions it
//! logged and used ([`run_links`]), and the runs that used a version ([`Lineage::used_by`]). A line
//! names its version by project, name and content digest; its number is only a hint (a run synced
//! from another machine carries that machine's numbers). Each run's lines are cached on the file's
//! stat, so asking who used a version costs one stat per run.

use super::files::{LineageLine, RUN_ARTIFACTS_FILE, VersionFile};
use super::store::{ArtifactStore, Stamp, open_file, parse_json_line};
use crate::format::{FormatError, RunKey};
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::sync::Arc;
use trackline_shared::artifacts::{ArtifactRunRef, LinkDirection, RunArtifactLink};

/// Largest `artifacts.jsonl` read, from its start (a run logs a handful of lines per artifact).
pub const MAX_LINEAGE_BYTES: u64 = 16 << 20;

/// The live version a lineage line names among `versions`: its hinted number when that version
/// has its digest, else the newest live version with its digest.
pub fn match_version(
    line: &LineageLine,
    versions: &BTreeMap<u64, Arc<VersionFile>>,
) -> Option<u64> {
    if versions
        .get(&line.version)
        .is_some_and(|v| v.digest == line.digest)
    {
        return Some(line.version);
    }
    versions
        .iter()
        .rev()
        .find(|(_, v)| v.digest == line.digest)
        .map(|(n, _)| *n)
}

/// The version a line names now, through the store; `None` when it is gone.
fn resolve(store: &ArtifactStore, line: &LineageLine) -> Result<Option<u64>, FormatError> {
    Ok(store
        .artifact(&line.project, &line.name)?
        .and_then(|a| match_version(line, &a.versions)))
}

/// Run `key`'s lineage lines resolved, in the run's order.
pub fn run_links(
    store: &ArtifactStore,
    lineage: &Lineage,
    key: &RunKey,
) -> Result<Vec<RunArtifactLink>, FormatError> {
    let lines = lineage.lines(store, key)?;
    lines
        .iter()
        .map(|line| {
            Ok(RunArtifactLink {
                direction: line.direction,
                project: line.project.clone(),
                name: line.name.clone(),
                version: resolve(store, line)?,
                kind: line.kind.clone(),
                step: line.step,
                at: line.at,
            })
        })
        .collect()
}

/// A run's lineage lines and the stat of `artifacts.jsonl` they were read at (`None`: no file).
type CachedLines = (Option<Stamp>, Arc<Vec<LineageLine>>);

/// Runs' lineage lines, cached per run on the stat of its `artifacts.jsonl`.
#[derive(Debug, Default)]
pub struct Lineage {
    runs: Mutex<HashMap<RunKey, CachedLines>>,
}

impl Lineage {
    /// The one lineage cache of this process.
    pub fn shared() -> Arc<Lineage> {
        static LINEAGE: std::sync::OnceLock<Arc<Lineage>> = std::sync::OnceLock::new();
        LINEAGE.get_or_init(Default::default).clone()
    }

    /// The committed lines of run `key`'s `artifacts.jsonl` (none when it has none).
    pub fn lines(
        &self,
        store: &ArtifactStore,
        key: &RunKey,
    ) -> Result<Arc<Vec<LineageLine>>, FormatError> {
        let rel = format!("{}/{}/{RUN_ARTIFACTS_FILE}", key.project, key.run);
        let root = store.root()?;
        let stamp = match root.stat(&rel) {
            Ok(meta) => meta.as_ref().map(Stamp::of),
            Err(FormatError::NotRegular { .. } | FormatError::Refused(_)) => None,
            Err(e) => return Err(e),
        };
        if let Some((held, lines)) = self.runs.lock().get(key)
            && *held == stamp
        {
            return Ok(lines.clone());
        }
        let lines = Arc::new(match stamp {
            None => Vec::new(),
            Some(_) => read_lines(root, &rel)?,
        });
        self.runs.lock().insert(key.clone(), (stamp, lines.clone()));
        Ok(lines)
    }

    /// Every run among `runs` whose lineage says it used version `n` of `project`/`name`
    /// (`version_file`), in the order given, each once.
    pub fn used_by(
        &self,
        store: &ArtifactStore,
        runs: impl IntoIterator<Item = RunKey>,
        project: &str,
        version_file: &VersionFile,
    ) -> Result<Vec<ArtifactRunRef>, FormatError> {
        let Some(artifact) = store.artifact(project, &version_file.name)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for key in runs {
            let lines = self.lines(store, &key)?;
            let used = lines.iter().any(|line| {
                line.direction == LinkDirection::Input
                    && line.project == project
                    && line.name == version_file.name
                    && line.digest == version_file.digest
                    && match_version(line, &artifact.versions) == Some(version_file.version)
            });
            if used {
                out.push(ArtifactRunRef {
                    project: key.project.clone(),
                    run: key.run.clone(),
                });
            }
        }
        Ok(out)
    }
}

/// The committed lines of the lineage file `rel` beneath `root`, within [`MAX_LINEAGE_BYTES`].
fn read_lines(
    root: &crate::format::beneath::Dir,
    rel: &str,
) -> Result<Vec<LineageLine>, FormatError> {
    let Some(file) = open_file(root, rel)? else {
        return Ok(Vec::new());
    };
    let mut bytes = Vec::new();
    file.take(MAX_LINEAGE_BYTES)
        .read_to_end(&mut bytes)
        .map_err(|e| FormatError::io(root.path().join(rel), e))?;
    Ok(parse_lines(&bytes))
}

/// The committed lines of a lineage file (up to its last `\n`), torn ones as in `history.jsonl`.
pub fn parse_lines(bytes: &[u8]) -> Vec<LineageLine> {
    let Some(end) = bytes.iter().rposition(|&b| b == b'\n') else {
        return Vec::new();
    };
    bytes[..end]
        .split(|&b| b == b'\n')
        .filter_map(parse_json_line::<LineageLine>)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifacts::store::tests_support::version;

    fn line(version: u64, digest: &str) -> LineageLine {
        LineageLine {
            direction: LinkDirection::Input,
            project: "p".into(),
            name: "m".into(),
            version,
            digest: digest.into(),
            kind: "model".into(),
            step: None,
            at: 0.0,
        }
    }

    #[test]
    fn a_line_matches_by_digest_with_its_number_as_a_hint() {
        let versions: BTreeMap<u64, Arc<VersionFile>> = (0..3)
            .map(|n| (n, Arc::new(version("m", n, "model", None))))
            .collect();
        assert_eq!(match_version(&line(1, "d1"), &versions), Some(1));
        // Another machine's number: found by digest.
        assert_eq!(match_version(&line(7, "d2"), &versions), Some(2));
        assert_eq!(match_version(&line(0, "d2"), &versions), Some(2));
        // Its digest is in no live version: gone.
        assert_eq!(match_version(&line(1, "dx"), &versions), None);
    }

    #[test]
    fn lines_parse_with_torn_ones_kept_and_the_unfinished_one_waiting() {
        let good = r#"{"direction":"output","project":"p","name":"m","version":0,"digest":"d0","type":"model","step":3,"at":1.5}"#;
        let text = format!("{good}\n{{\"direction\":\"in{good}\n\nnope\n{good}");
        let lines = parse_lines(text.as_bytes());
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].direction, LinkDirection::Output);
        assert_eq!(lines[1].step, Some(3));
    }

    #[test]
    fn used_by_finds_the_runs_that_used_a_version() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("p/.artifacts/m");
        std::fs::create_dir_all(&dir).unwrap();
        for n in 0..2 {
            std::fs::write(
                dir.join(format!("v{n}.json")),
                serde_json::to_vec(&version("m", n, "model", None)).unwrap(),
            )
            .unwrap();
        }
        let lineage_line = |direction: &str, n: u64| {
            format!(
                "{{\"direction\":\"{direction}\",\"project\":\"p\",\"name\":\"m\",\"version\":{n},\"digest\":\"d{n}\",\"type\":\"model\",\"at\":1}}\n"
            )
        };
        for (run, text) in [
            ("a", lineage_line("output", 0)),
            ("b", lineage_line("input", 0)),
            ("c", lineage_line("input", 1)),
        ] {
            std::fs::create_dir_all(root.path().join("p").join(run)).unwrap();
            std::fs::write(
                root.path().join("p").join(run).join("artifacts.jsonl"),
                text,
            )
            .unwrap();
        }
        let store = ArtifactStore::new(root.path().to_owned());
        let lineage = Lineage::default();
        let keys: Vec<RunKey> = ["a", "b", "c", "none"]
            .iter()
            .map(|r| RunKey {
                project: "p".into(),
                run: r.to_string(),
            })
            .collect();
        let v0 = store.artifact("p", "m").unwrap().unwrap().versions[&0].clone();
        let users = lineage.used_by(&store, keys.clone(), "p", &v0).unwrap();
        assert_eq!(
            users.iter().map(|r| r.run.as_str()).collect::<Vec<_>>(),
            ["b"]
        );
        let links = run_links(&store, &lineage, &keys[2]).unwrap();
        assert_eq!(links[0].version, Some(1));
        std::fs::rename(dir.join("v1.json"), dir.join("v1.deleted.json")).unwrap();
        let links = run_links(&store, &lineage, &keys[2]).unwrap();
        assert_eq!(links[0].version, None, "a deleted version is gone");
    }
}
