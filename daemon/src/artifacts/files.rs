//! The artifact store's files as docs/format.md ("Artifacts") defines them: a version file
//! `v<N>.json`, a line of `aliases.jsonl`, a line of a run's `artifacts.jsonl`, and the names of
//! these files. Plain data and parsing; reading folders and writing files live beside this.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use trackline_shared::artifacts::{LinkDirection, LinkedFrom};

/// The folder of a project that holds one folder per artifact name.
pub const ARTIFACTS_DIR: &str = ".artifacts";
/// The alias log of one artifact name.
pub const ALIASES_FILE: &str = "aliases.jsonl";
/// A run's lineage file.
pub const RUN_ARTIFACTS_FILE: &str = "artifacts.jsonl";
/// The folder of the data dir's `.trackline/` that holds the blobs.
pub const BLOBS_DIR: &str = "blobs";
/// The version of the version-file format (`"format"`).
pub const VERSION_FILE_FORMAT: u32 = 1;
/// The `storagePolicy` of a Trackline manifest.
pub const STORAGE_POLICY: &str = "trackline-cas-v1";
/// The first line hashed into a version's content digest.
pub const DIGEST_HEADER: &str = "trackline-artifact-manifest-v1\n";

/// The file name of live version `n`.
pub fn version_file_name(n: u64) -> String {
    format!("v{n}.json")
}

/// The file name of deleted version `n` (its tombstone).
pub fn tombstone_file_name(n: u64) -> String {
    format!("v{n}.deleted.json")
}

/// What a file name in an artifact's folder is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum VersionFileName {
    Live(u64),
    Deleted(u64),
}

/// Reads a file name of an artifact's folder: `v<N>.json` or `v<N>.deleted.json`, else `None`.
pub fn parse_version_file_name(name: &str) -> Option<VersionFileName> {
    if let Some(stem) = name.strip_suffix(".deleted.json") {
        return trackline_shared::artifacts::parse_version_ref(stem).map(VersionFileName::Deleted);
    }
    let stem = name.strip_suffix(".json")?;
    trackline_shared::artifacts::parse_version_ref(stem).map(VersionFileName::Live)
}

/// One entry of a manifest's `contents`.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct ManifestEntry {
    /// SHA-256 hex of the content, or a reference's URI.
    pub digest: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<Map<String, Value>>,
}

/// W&B's manifest v1 shape, digests in SHA-256.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct Manifest {
    pub version: u32,
    #[serde(rename = "storagePolicy")]
    pub storage_policy: String,
    #[serde(rename = "storagePolicyConfig", default)]
    pub storage_policy_config: Map<String, Value>,
    /// Path inside the artifact → entry, in path order.
    pub contents: BTreeMap<String, ManifestEntry>,
}

/// A goal metric's summary value when a version was logged.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct MetricAtLog {
    pub name: String,
    /// `None` for a value that was not a finite number.
    #[serde(default)]
    pub value: Option<f64>,
    /// `minimize` or `maximize`.
    pub goal: String,
}

/// `v<N>.json`: one version, written once.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct VersionFile {
    pub format: u32,
    pub name: String,
    pub version: u64,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub metadata: Map<String, Value>,
    pub digest: String,
    pub size: u64,
    pub file_count: u64,
    pub created_at: f64,
    #[serde(default)]
    pub run: Option<String>,
    #[serde(default)]
    pub step: Option<u64>,
    /// The producing run's goal metrics, in the order it defined them.
    #[serde(default)]
    pub metrics: Vec<MetricAtLog>,
    #[serde(default)]
    pub ttl_secs: Option<f64>,
    #[serde(default)]
    pub linked_from: Option<LinkedFrom>,
    pub manifest: Manifest,
}

/// One line of `aliases.jsonl`: point `alias` at `version`, or remove it (`None`).
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct AliasLine {
    pub alias: String,
    pub version: Option<u64>,
    pub at: f64,
}

/// One line of a run's `artifacts.jsonl`.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct LineageLine {
    pub direction: LinkDirection,
    pub project: String,
    pub name: String,
    pub version: u64,
    pub digest: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub step: Option<u64>,
    #[serde(default)]
    pub at: f64,
}

/// The content digest of a manifest: SHA-256 hex of [`DIGEST_HEADER`] and `<path>:<digest>\n` per
/// entry in path order (a `BTreeMap` of `String`s is in byte order).
pub fn manifest_digest(contents: &BTreeMap<String, ManifestEntry>) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(DIGEST_HEADER.as_bytes());
    for (path, entry) in contents {
        hasher.update(path.as_bytes());
        hasher.update(b":");
        hasher.update(entry.digest.as_bytes());
        hasher.update(b"\n");
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_file_names() {
        assert_eq!(
            parse_version_file_name("v0.json"),
            Some(VersionFileName::Live(0))
        );
        assert_eq!(
            parse_version_file_name("v12.json"),
            Some(VersionFileName::Live(12))
        );
        assert_eq!(
            parse_version_file_name("v3.deleted.json"),
            Some(VersionFileName::Deleted(3))
        );
        for other in [
            "aliases.jsonl",
            ".tmp-abc",
            "v.json",
            "vx.json",
            "v1.json.tmp",
            "x1.json",
        ] {
            assert_eq!(parse_version_file_name(other), None, "{other}");
        }
        assert_eq!(version_file_name(7), "v7.json");
        assert_eq!(tombstone_file_name(7), "v7.deleted.json");
    }

    #[test]
    fn digest_is_sha256_of_sorted_lines() {
        let entry = |digest: &str| ManifestEntry {
            digest: digest.into(),
            size: Some(1),
            reference: None,
            extra: None,
        };
        let mut contents = BTreeMap::new();
        contents.insert("b.txt".to_string(), entry("22"));
        contents.insert("a.txt".to_string(), entry("11"));
        // sha256("trackline-artifact-manifest-v1\na.txt:11\nb.txt:22\n"), by Python's hashlib.
        assert_eq!(
            manifest_digest(&contents),
            "929dadeeed71bd41ee80edbe13ffba9b9ac8429662a159a9661d10ef8b3a15c4"
        );
    }
}
