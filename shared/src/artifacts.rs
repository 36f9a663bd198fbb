//! Artifacts (datasets, checkpoints): the wire types of a project's artifacts, versions, files and
//! lineage (docs/api.md), the naming rules both ends check (docs/format.md, "Artifacts"), and the
//! diff of two versions the web app shows.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Longest artifact name (W&B's limit).
pub const MAX_NAME_LEN: usize = 128;
/// Longest artifact type.
pub const MAX_TYPE_LEN: usize = 64;
/// Longest alias.
pub const MAX_ALIAS_LEN: usize = 128;
/// Longest path of a file inside an artifact, in bytes.
pub const MAX_ENTRY_PATH_LEN: usize = 1024;
/// The alias every artifact has: its live version with the largest number. Never stored.
pub const LATEST: &str = "latest";
/// The alias chosen automatically among model versions by their producing run's goal metric,
/// while no user ever set it.
pub const BEST: &str = "best";

/// One artifact name of a project: `GET /api/projects/{p}/artifacts`.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct ArtifactCollection {
    pub name: String,
    /// The type of its latest version.
    #[serde(rename = "type")]
    pub kind: String,
    /// Live (not deleted) versions.
    pub version_count: u64,
    /// The number of the `latest` version.
    pub latest: u64,
    /// Every alias with the version it names, `latest` and an automatic `best` included.
    pub aliases: Vec<AliasTarget>,
    /// Bytes of the latest version.
    pub size: u64,
    /// Unix seconds of its newest version.
    pub updated_at: f64,
}

/// An alias and the version number it names.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Debug)]
pub struct AliasTarget {
    pub alias: String,
    pub version: u64,
}

/// A producing run's goal metric at the time a version was logged (the `metrics` of a version file).
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct VersionMetric {
    /// The summary value; `None` when it was not a finite number.
    pub value: Option<f64>,
    /// `minimize` or `maximize`, as given to `define_metric(goal=…)`.
    pub goal: String,
}

/// One version, as lists show it: `GET …/artifacts/{name}/versions`.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug, Default)]
pub struct ArtifactVersionInfo {
    pub name: String,
    pub version: u64,
    #[serde(rename = "type")]
    pub kind: String,
    /// The content digest (docs/format.md, "Artifacts").
    pub digest: String,
    pub size: u64,
    pub file_count: u64,
    /// Unix seconds.
    pub created_at: f64,
    /// The producing run (in this project), if any.
    pub run: Option<String>,
    /// The producing run's step when the version was logged.
    pub step: Option<u64>,
    /// Goal metrics of the producing run when logged, in the order the run defined them.
    #[serde(default)]
    pub metrics: Vec<(String, VersionMetric)>,
    /// `latest` (when it is), the user aliases pointing here and the automatic `best`, sorted.
    pub aliases: Vec<String>,
    pub description: Option<String>,
}

/// A version as `link_artifact` made it: where it was linked from.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Debug)]
pub struct LinkedFrom {
    pub project: String,
    pub name: String,
    pub version: u64,
}

/// One file of a version.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Debug)]
pub struct ArtifactFile {
    /// The path inside the artifact.
    pub path: String,
    /// SHA-256 hex of the content, or a reference's URI when it was not checksummed.
    pub digest: String,
    /// Bytes; a reference may not know its size.
    pub size: Option<u64>,
    /// The URI of a reference entry (its bytes are not stored).
    #[serde(rename = "ref")]
    pub reference: Option<String>,
}

/// A run, as lineage names it.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Debug)]
pub struct ArtifactRunRef {
    pub project: String,
    pub run: String,
}

/// One version whole: `GET …/artifacts/{name}/versions/{ref}`.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct ArtifactVersion {
    pub info: ArtifactVersionInfo,
    pub metadata: Map<String, Value>,
    pub ttl_secs: Option<f64>,
    pub linked_from: Option<LinkedFrom>,
    /// In path order.
    pub files: Vec<ArtifactFile>,
    pub logged_by: Option<ArtifactRunRef>,
    pub used_by: Vec<ArtifactRunRef>,
}

/// Whether a run logged or used a version.
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
pub enum LinkDirection {
    Output,
    Input,
}

/// One line of a run's `artifacts.jsonl`, resolved: `GET …/runs/{run}/artifacts`.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct RunArtifactLink {
    pub direction: LinkDirection,
    pub project: String,
    pub name: String,
    /// The version it resolves to now; `None` when that version is gone.
    pub version: Option<u64>,
    #[serde(rename = "type")]
    pub kind: String,
    pub step: Option<u64>,
    pub at: f64,
}

/// Why a name, type, alias or path is refused.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct NameError(pub String);

impl std::fmt::Display for NameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NameError {}

/// Checks an artifact name: `^[A-Za-z0-9_.-]{1,128}$`, not `.` or `..`.
pub fn check_name(name: &str) -> Result<(), NameError> {
    let ok_chars = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if name.is_empty() || name.len() > MAX_NAME_LEN || !ok_chars || name == "." || name == ".." {
        return Err(NameError(format!(
            "artifact name {:?} must be 1 to {MAX_NAME_LEN} letters, digits, '_', '-' or '.' (not '.' or '..')",
            clip(name)
        )));
    }
    Ok(())
}

/// Checks an artifact type: 1 to 64 characters without `/`, `:` or control characters.
pub fn check_type(kind: &str) -> Result<(), NameError> {
    if kind.is_empty()
        || kind.len() > MAX_TYPE_LEN
        || kind.chars().any(|c| c == '/' || c == ':' || c.is_control())
    {
        return Err(NameError(format!(
            "artifact type {:?} must be 1 to {MAX_TYPE_LEN} characters without '/' or ':'",
            clip(kind)
        )));
    }
    Ok(())
}

/// Checks an alias a user may set: 1 to 128 characters without `/`, `:` or whitespace, not
/// `latest` (automatic) and not `v<digits>` (a version's own name).
pub fn check_alias(alias: &str) -> Result<(), NameError> {
    let bad_chars = alias
        .chars()
        .any(|c| c == '/' || c == ':' || c.is_whitespace() || c.is_control());
    if alias.is_empty() || alias.len() > MAX_ALIAS_LEN || bad_chars {
        return Err(NameError(format!(
            "alias {:?} must be 1 to {MAX_ALIAS_LEN} characters without '/', ':' or spaces",
            clip(alias)
        )));
    }
    if alias == LATEST || parse_version_ref(alias).is_some() {
        return Err(NameError(format!(
            "alias {:?} is reserved: 'latest' and 'v<N>' are given automatically",
            clip(alias)
        )));
    }
    Ok(())
}

/// The version number of a `v<N>` reference.
pub fn parse_version_ref(text: &str) -> Option<u64> {
    let digits = text.strip_prefix('v')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Checks a path inside an artifact: relative, `/`-separated, ≤ 1024 bytes, no empty, `.` or
/// `..` segment, no `\` or NUL. Such a path can be joined under any folder and stays inside it.
pub fn check_entry_path(path: &str) -> Result<(), NameError> {
    let bad = path.is_empty()
        || path.len() > MAX_ENTRY_PATH_LEN
        || path.contains(['\\', '\0'])
        || path
            .split('/')
            .any(|segment| segment.is_empty() || segment == "." || segment == "..");
    if bad {
        return Err(NameError(format!(
            "artifact path {:?} must be relative, '/'-separated, without empty, '.' or '..' parts",
            clip(path)
        )));
    }
    Ok(())
}

fn clip(text: &str) -> String {
    text.chars().take(140).collect()
}

/// How one path differs between two versions.
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
pub enum FileChange {
    Added,
    Removed,
    Changed,
    Same,
}

/// One row of a version diff.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct FileDiff {
    pub path: String,
    pub change: FileChange,
    pub old_size: Option<u64>,
    pub new_size: Option<u64>,
}

/// One metadata key whose value differs.
#[derive(Clone, PartialEq, Debug)]
pub struct MetadataDiff {
    pub key: String,
    pub old: Option<Value>,
    pub new: Option<Value>,
}

/// What changed from `old` to `new`: every path of either, in path order (digest decides
/// `Changed`), and the metadata keys whose values differ.
pub fn diff_versions(
    old: &ArtifactVersion,
    new: &ArtifactVersion,
) -> (Vec<FileDiff>, Vec<MetadataDiff>) {
    let mut paths: BTreeMap<&str, (Option<&ArtifactFile>, Option<&ArtifactFile>)> = BTreeMap::new();
    for file in &old.files {
        paths.entry(&file.path).or_default().0 = Some(file);
    }
    for file in &new.files {
        paths.entry(&file.path).or_default().1 = Some(file);
    }
    let files = paths
        .into_iter()
        .map(|(path, (before, after))| {
            let change = match (before, after) {
                (None, _) => FileChange::Added,
                (_, None) => FileChange::Removed,
                (Some(a), Some(b)) if a.digest == b.digest => FileChange::Same,
                _ => FileChange::Changed,
            };
            FileDiff {
                path: path.to_string(),
                change,
                old_size: before.and_then(|f| f.size),
                new_size: after.and_then(|f| f.size),
            }
        })
        .collect();
    let mut keys: Vec<&String> = old.metadata.keys().chain(new.metadata.keys()).collect();
    keys.sort();
    keys.dedup();
    let metadata = keys
        .into_iter()
        .filter(|key| old.metadata.get(*key) != new.metadata.get(*key))
        .map(|key| MetadataDiff {
            key: key.clone(),
            old: old.metadata.get(key).cloned(),
            new: new.metadata.get(key).cloned(),
        })
        .collect();
    (files, metadata)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_wandbs_rule() {
        for good in [
            "mnist",
            "model-abc123",
            "a.b_c-d",
            "run-x-table.json",
            &"a".repeat(128),
        ] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", ".", "..", "a/b", "a:b", "a b", "ü", &"a".repeat(129)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn aliases_refuse_reserved_and_separators() {
        for good in [
            "best",
            "prod",
            "epoch_3",
            "checkpoint_global_step_500",
            "v1.2",
            "vx",
        ] {
            assert!(check_alias(good).is_ok(), "{good}");
        }
        for bad in ["", "latest", "v0", "v12", "a/b", "a:b", "a b", "\n"] {
            assert!(check_alias(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_version_ref("v12"), Some(12));
        assert_eq!(parse_version_ref("v"), None);
        assert_eq!(parse_version_ref("v-1"), None);
    }

    #[test]
    fn entry_paths_stay_inside() {
        for good in ["a", "a/b.txt", ".gitignore", "dir/.hidden/x", "..a", "a.."] {
            assert!(check_entry_path(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "a/../b",
            "..",
            "./a",
            "a//b",
            "a/",
            "a\\b",
            "a\0b",
        ] {
            assert!(check_entry_path(bad).is_err(), "{bad:?}");
        }
        assert!(check_entry_path(&"a".repeat(1025)).is_err());
    }

    fn version(files: &[(&str, &str)], metadata: Value) -> ArtifactVersion {
        ArtifactVersion {
            info: ArtifactVersionInfo {
                name: "m".into(),
                kind: "model".into(),
                file_count: files.len() as u64,
                ..ArtifactVersionInfo::default()
            },
            metadata: metadata.as_object().cloned().unwrap_or_default(),
            ttl_secs: None,
            linked_from: None,
            files: files
                .iter()
                .map(|(path, digest)| ArtifactFile {
                    path: path.to_string(),
                    digest: digest.to_string(),
                    size: Some(digest.len() as u64),
                    reference: None,
                })
                .collect(),
            logged_by: None,
            used_by: Vec::new(),
        }
    }

    #[test]
    fn diff_names_each_path_once() {
        let old = version(
            &[("a", "1"), ("b", "2"), ("c", "3")],
            serde_json::json!({"lr": 0.1, "same": 1}),
        );
        let new = version(
            &[("b", "2"), ("c", "33"), ("d", "4")],
            serde_json::json!({"lr": 0.2, "same": 1, "new": true}),
        );
        let (files, metadata) = diff_versions(&old, &new);
        let changes: Vec<(&str, FileChange)> =
            files.iter().map(|f| (f.path.as_str(), f.change)).collect();
        assert_eq!(
            changes,
            [
                ("a", FileChange::Removed),
                ("b", FileChange::Same),
                ("c", FileChange::Changed),
                ("d", FileChange::Added)
            ]
        );
        assert_eq!(files[2].old_size, Some(1));
        assert_eq!(files[2].new_size, Some(2));
        let keys: Vec<&str> = metadata.iter().map(|m| m.key.as_str()).collect();
        assert_eq!(keys, ["lr", "new"]);
        assert_eq!(metadata[1].old, None);
    }
}
